// Inputs for fuzzing the POT config parser: random JSON values, valid configs with one subtree
// replaced, deleted or given an extra key, and character edits of config texts (with comments).
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { parsePotConfig, potConfigFromObject } from '../../src/core/config/parse';

const FIX = join(import.meta.dirname, '../fixtures');

/** A rich AccuracyAwareQuantization config touching most of the schema. */
export const RICH_CONFIG = `/* every section */
{
  "model": { "model_name": "rich", "model": "m.onnx", "weights": "m.bin" },
  "engine": {
    "type": "accuracy_checker",
    "datasets": [ {
      "name": "val", "data_source": "imgs/", "labels": "labels.txt", "color": "bgr", "layout": "NHWC",
      "preprocessing": [ { "type": "resize", "size": 256, "interpolation": "LINEAR" },
                         { "type": "crop", "dst_height": 224, "dst_width": 224 },
                         { "type": "normalization", "mean": "(123.675, 116.28, 103.53)", "std": [58.395, 57.12, 57.375] } ],
      "metrics": [ { "name": "acc", "type": "accuracy", "top_k": 1 }, { "name": "accuracy@top5" } ]
    } ],
    "stat_requests_number": 2
  },
  "compression": {
    "target_device": "CPU", "model_type": "None", "inplace_statistics": true,
    "algorithms": [ { "name": "AccuracyAwareQuantization", "params": {
      "preset": "mixed", "stat_subset_size": 300, "ranking_subset_size": 200, "max_iter_num": 20,
      "maximal_drop": 0.005, "drop_type": "relative", "use_prev_if_drop_increase": false,
      "convert_to_mixed_preset": true, "metric_subset_ratio": 0.5, "tune_hyperparams": true,
      "metrics": [ { "name": "acc", "baseline_value": 0.76 } ], "shuffle_data": true, "seed": 7,
      "ignored": { "scope": ["conv1"], "operations": [ { "type": "Add", "attributes": {} } ] },
      "range_estimator": { "preset": "quantile", "min": { "type": "quantile", "aggregator": "mean", "outlier_prob": 0.0001 },
                           "max": { "type": "abs_max", "clipping_value": 6 } },
      "activations": { "mode": "asymmetric", "granularity": "pertensor", "bits": 8 },
      "weights": { "mode": "symmetric", "granularity": "perchannel", "level_low": -127 },
      "use_fast_bias": true, "return_best": true, "exclude_rolled_back": true
    } },
    { "name": "DefaultQuantization", "params": { "preset": "" } } ]
  }
}
`;

export function baseTexts(): string[] {
  const bad = join(FIX, 'bad/configs');
  return [
    RICH_CONFIG,
    readFileSync(join(FIX, 'fmnist-cnn.json'), 'utf8'),
    ...readdirSync(bad)
      .filter((f) => f.endsWith('.jsonc'))
      .sort()
      .map((f) => readFileSync(join(bad, f), 'utf8')),
  ];
}

/** The parser as the CLI and the studio call it: any error but a QuantizeError is a bug. */
export function parseOnce(input: { text?: string; value?: unknown }): void {
  if (input.text !== undefined) parsePotConfig(input.text, 'fuzz.json');
  if (input.value !== undefined) potConfigFromObject(input.value, 'fuzz.json');
}

// ---------------------------------------------------------------------------------------------
// Subtree edits of a valid config

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'model',
  'engine',
  'params',
  'name',
  'metrics',
  'preset',
  'type',
  'dataset',
  'datasets',
  'algorithms',
  'maximal_drop',
  'ignored',
  'min',
  'max',
  'scope',
  '',
];

const JSONISH = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e-308, '', 'None', 'accuracy@top1', 'AccuracyAwareQuantization', 'performance', [], {}, [null], {
      name: 'x',
    }),
  },
);

export interface TreeEdit {
  path: number[];
  kind: 'replace' | 'delete' | 'addKey';
  key: string;
  value: unknown;
}

export const treeEdits = fc.array(
  fc.record({ path: fc.array(fc.nat(), { maxLength: 7 }), kind: fc.constantFrom<TreeEdit['kind']>('replace', 'delete', 'addKey'), key: fc.constantFrom(...KEYS), value: JSONISH }),
  { minLength: 1, maxLength: 4 },
);

/** Walks `path` (indices into each level's keys) and edits there. */
export function applyTreeEdits(root: unknown, edits: TreeEdit[]): unknown {
  const top = { root };
  for (const e of edits) {
    let parent: Record<string, unknown> = top;
    let key = 'root';
    for (const step of e.path) {
      const cur = parent[key];
      if (cur === null || typeof cur !== 'object') break;
      const keys = Object.keys(cur);
      if (!keys.length) break;
      parent = cur as Record<string, unknown>;
      key = keys[step % keys.length];
    }
    const value = structuredClone(e.value); // generated values are shared between edits
    if (e.kind === 'replace') parent[key] = value;
    else if (e.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else {
      const cur = parent[key];
      if (cur && typeof cur === 'object' && !Array.isArray(cur)) Object.defineProperty(cur, e.key, { value, enumerable: true, writable: true, configurable: true });
      else parent[key] = value;
    }
  }
  return top.root;
}

export const baseObjects = (): unknown[] =>
  baseTexts()
    .slice(0, 2)
    .map((t) => parseJsonc(t, [], { allowTrailingComma: true }));

// ---------------------------------------------------------------------------------------------
// Text edits

const CHARS = fc.constantFrom(
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  '/',
  '*',
  '\n',
  '\\',
  ' ',
  '0',
  '9',
  '-',
  '+',
  '.',
  'e',
  'E',
  't',
  'n',
  'u',
  'l',
  '\u0000',
  '\ufeff',
  '\u2028',
  '\ud800',
  '💥',
  '/*',
  '//',
  '"__proto__"',
  'NaN',
  'Infinity',
  '1e999',
);

export interface TextEdit {
  pos: number;
  kind: 'insert' | 'delete' | 'replace' | 'dup';
  s: string;
  len: number;
}

export const textEdits = fc.array(
  fc.record({
    pos: fc.nat(),
    kind: fc.constantFrom<TextEdit['kind']>('insert', 'delete', 'replace', 'dup'),
    s: fc.oneof(CHARS, fc.string({ maxLength: 4 })),
    len: fc.integer({ min: 1, max: 40 }),
  }),
  { minLength: 1, maxLength: 6 },
);

export function applyTextEdits(text: string, edits: TextEdit[]): string {
  let t = text;
  for (const e of edits) {
    const p = t.length ? e.pos % (t.length + 1) : 0;
    if (e.kind === 'insert') t = t.slice(0, p) + e.s + t.slice(p);
    else if (e.kind === 'delete') t = t.slice(0, p) + t.slice(p + e.len);
    else if (e.kind === 'replace') t = t.slice(0, p) + e.s + t.slice(p + e.s.length);
    else t = t.slice(0, p) + t.slice(p, p + e.len) + t.slice(p);
  }
  return t;
}

/** Hand-picked extremes: deep nesting, huge literals, odd encodings. */
export function extremeTexts(): string[] {
  const deep = (n: number, o: string, c: string) => o.repeat(n) + c.repeat(n);
  return [
    deep(100_000, '[', ']'),
    deep(50_000, '{"a":', '}'),
    `{"model": {"model": "${'x'.repeat(5_000_000)}"}}`,
    `{"compression": {"algorithms": [{"name": "AccuracyAwareQuantization", "params": {"maximal_drop": 1e999, "stat_subset_size": ${'9'.repeat(400)}}}]}}`,
    '\ufeff{}',
    '\u0000',
    '{"__proto__": {"compression": {"algorithms": []}}}',
    '{"constructor": {"prototype": {"x": 1}}}',
    '{"model": {}, "model": {"model": 3}}',
    '/* unterminated',
    '{"a": "\\ud800"}',
    ' '.repeat(1_000_000),
  ];
}
