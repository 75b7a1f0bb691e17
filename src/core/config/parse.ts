// Parses a POT configuration file (JSON with // and /* */ comments, trailing commas allowed),
// checks it against the tables in schema.ts and fills every default (defaults.ts).
// Pure TypeScript: runs in Node, browsers and workers.

import { findNodeAtLocation, type Node as JsonNode, parse as parseJsonc, type ParseError, parseTree, printParseErrorCode, type Segment } from 'jsonc-parser';
import { DEFAULT_METRIC } from '../metrics/registry';
import { QuantizeError } from '../types';
import { bool, ConfigIssue, type Ctx, fail, listOf, newCtx, nonEmptyStr, oneOf, plainObject, raw, readSection, str } from './check';
import { ALGORITHM_NAMES, defaultAaqParams, defaultDataset, defaultDqParams, defaultMetrics, modelNameFrom } from './defaults';
import {
  aaqExtra,
  aaqFields,
  compressionExtra,
  dqExtra,
  dqFields,
  engineExtra,
  engineFields,
  modelTypeCheck,
  type RawCompression,
  type RawDataset,
  type RawEngine,
  targetDeviceCheck,
} from './schema';
import type { AccuracyAwareParams, AlgorithmConfig, DatasetConfig, DefaultQuantizationParams, EngineConfig, ParsedConfig, PotConfig, TargetDevice } from './types';

/**
 * Parses the text of a POT config file. Throws a QuantizeError naming `fileName` and, for syntax
 * errors, the line:column; for invalid fields, the field's path (e.g.
 * `compression.algorithms[0].params.maximal_drop`), what was expected, and where it is in the file.
 */
export function parsePotConfig(text: string, fileName: string): ParsedConfig {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const errors: ParseError[] = [];
  let value: unknown;
  try {
    value = parseJsonc(src, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  } catch (e) {
    // jsonc-parser recurses once per nesting level: absurd nesting overflows the stack
    if (e instanceof RangeError) throw new QuantizeError('the JSON is nested too deeply to read', { file: fileName, expected: 'a POT config (JSON nested a few levels deep)' });
    throw e;
  }
  if (errors.length) {
    const e = errors[0];
    const { line, col } = lineCol(src, e.offset);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new QuantizeError(`JSON syntax error at ${line}:${col}: ${humanize(printParseErrorCode(e.error))}${more}`, {
      file: fileName,
      expected: 'JSON; // and /* */ comments and trailing commas are allowed',
    });
  }
  try {
    return build(value, newCtx());
  } catch (e) {
    throw toQuantizeError(e, fileName, src);
  }
}

/** The same checks and defaults for a config already held as an object (e.g. edited in the studio). */
export function potConfigFromObject(value: unknown, fileName = '<config>'): ParsedConfig {
  try {
    return build(value, newCtx());
  } catch (e) {
    throw toQuantizeError(e, fileName);
  }
}

// ---------------------------------------------------------------------------------------------

function build(value: unknown, ctx: Ctx): ParsedConfig {
  const root = plainObject(value, '');
  const top = readSection<{ model: unknown; engine: unknown; compression: unknown }>(root, '', ctx, {
    model: raw,
    engine: raw,
    compression: raw,
  });
  const model = buildModel(top.model ?? {}, ctx);
  const { engine, explicitMetrics } = buildEngine(top.engine ?? {}, ctx);
  if (top.compression === undefined) fail('compression', 'missing section', 'a "compression" section with "algorithms"');
  const compression = buildCompression(top.compression, ctx);

  // AccuracyAwareQuantization.metrics must name metrics the engine computes. When the engine
  // section lists none, the algorithm's list defines them.
  compression.algorithms.forEach((alg, i) => {
    if (alg.name !== 'AccuracyAwareQuantization' || !alg.params.metrics) return;
    const names = engine.metrics.map((m) => m.name);
    if (!explicitMetrics) {
      if (i === 0) engine.metrics = alg.params.metrics.map((m) => ({ name: m.name }));
      return;
    }
    alg.params.metrics.forEach((m, j) => {
      if (!names.includes(m.name)) {
        fail(`compression.algorithms[${i}].params.metrics[${j}].name`, `metric ${m.name} is not computed by the engine`, `one of the engine's metrics: ${names.join(', ')}`);
      }
    });
  });

  const config: PotConfig = { model, engine, compression };
  return { config, warnings: ctx.warnings };
}

function buildModel(v: unknown, ctx: Ctx): PotConfig['model'] {
  const m = readSection<{ model_name: string; model: string }>(
    v,
    'model',
    ctx,
    { model_name: nonEmptyStr, model: str },
    { weights: 'OpenVINO IR weights file; ignored (an ONNX model carries its weights)' },
  );
  const model = m.model ?? '';
  if (/\.(xml|bin)$/i.test(model)) {
    ctx.warnings.push(`model.model: ${JSON.stringify(model)} looks like OpenVINO IR; AAQ Studio reads ONNX models (.onnx)`);
  }
  return { model_name: m.model_name ?? modelNameFrom(model), model };
}

function buildEngine(v: unknown, ctx: Ctx): { engine: EngineConfig; explicitMetrics: boolean } {
  const e = readSection<RawEngine>(v, 'engine', ctx, engineFields, engineExtra);
  if (e.dataset && e.datasets) fail('engine.datasets', 'give engine.dataset or engine.datasets, not both', 'one of them', true);
  if (e.datasets && e.datasets.length > 1) {
    ctx.warnings.push(`engine.datasets: ${e.datasets.length} datasets given; only the first is used`);
  }
  const dsPath = e.datasets ? 'engine.datasets[0]' : 'engine.dataset';
  const ds: RawDataset = e.dataset ?? e.datasets?.[0] ?? {};

  let data_source = ds.data_source;
  if (e.data_source !== undefined) {
    if (data_source !== undefined && data_source !== e.data_source) {
      fail('engine.data_source', `conflicts with ${dsPath}.data_source`, 'data_source given once');
    }
    data_source = e.data_source;
  }
  if (e.metrics && ds.metrics) fail(`${dsPath}.metrics`, 'metrics given twice (also in engine.metrics)', 'metrics in one place', true);
  const metrics = e.metrics ?? ds.metrics;

  if (e.config !== undefined) {
    const missing = [data_source === undefined && 'data_source', metrics === undefined && 'metrics'].filter(Boolean);
    ctx.warnings.push(
      `engine.config: the Accuracy Checker file ${JSON.stringify(e.config)} is NOT read; declare the dataset and ` +
        `metrics inline in engine.dataset and engine.metrics` +
        (missing.length ? ` (not given here: ${missing.join(', ')}; defaults used: data_source from --data, metric ${DEFAULT_METRIC})` : ''),
    );
  }

  const { metrics: _inDataset, ...rest } = ds;
  const dataset: DatasetConfig = { ...defaultDataset(), ...rest, data_source: data_source ?? '' };
  return {
    engine: { type: e.type ?? 'accuracy_checker', dataset, metrics: metrics ?? defaultMetrics() },
    explicitMetrics: metrics !== undefined,
  };
}

function warnDevice(ctx: Ctx, path: string, device: TargetDevice) {
  if (device !== 'ANY' && device !== 'CPU' && device !== 'ONNXRUNTIME') {
    ctx.warnings.push(`${path}: ${JSON.stringify(device)} accepted, but the CPU quantization rules are used for every target device`);
  }
}

function buildCompression(v: unknown, ctx: Ctx): PotConfig['compression'] {
  const c = readSection<RawCompression>(
    v,
    'compression',
    ctx,
    { target_device: targetDeviceCheck, model_type: modelTypeCheck, inplace_statistics: bool, algorithms: listOf(raw, true) },
    compressionExtra,
  );
  const target_device = c.target_device ?? 'ANY';
  warnDevice(ctx, 'compression.target_device', target_device);
  const list = c.algorithms ?? fail('compression.algorithms', 'missing', 'a non-empty list of {"name": …, "params": {…}}');
  const algorithms = list.map((a, i) => buildAlgorithm(a, `compression.algorithms[${i}]`, ctx, c, target_device));
  if (algorithms.length > 1) {
    ctx.warnings.push(`compression.algorithms: ${algorithms.length} algorithms given; only the first (${algorithms[0].name}) is run`);
  }
  return { target_device, algorithms };
}

function buildAlgorithm(v: unknown, path: string, ctx: Ctx, c: Partial<RawCompression>, device: TargetDevice): AlgorithmConfig {
  const a = readSection<{ name: (typeof ALGORITHM_NAMES)[number]; params: unknown }>(v, path, ctx, {
    name: oneOf(ALGORITHM_NAMES),
    params: raw,
  });
  const name = a.name ?? fail(`${path}.name`, 'missing algorithm name', `one of ${ALGORITHM_NAMES.join(', ')}`);
  const at = `${path}.params`;
  // POT copies these compression-level keys into every algorithm's parameters.
  const inherited: Partial<DefaultQuantizationParams> = {};
  if (c.model_type !== undefined) inherited.model_type = c.model_type;
  if (c.inplace_statistics !== undefined) inherited.inplace_statistics = c.inplace_statistics;

  if (name === 'AccuracyAwareQuantization') {
    const p = readSection<AccuracyAwareParams>(a.params ?? {}, at, ctx, aaqFields, aaqExtra);
    if (p.target_device !== undefined) warnDevice(ctx, `${at}.target_device`, p.target_device);
    return { name, params: { ...defaultAaqParams(device), ...inherited, ...p } };
  }
  const p = readSection<DefaultQuantizationParams>(a.params ?? {}, at, ctx, dqFields, dqExtra);
  if (p.target_device !== undefined) warnDevice(ctx, `${at}.target_device`, p.target_device);
  return { name, params: { ...defaultDqParams(device), ...inherited, ...p } };
}

// ---------------------------------------------------------------------------------------------
// Error locations

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

const humanize = (code: string) => code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/** Where a field path (`a.b[0].c`) is in the text: its value, or its key for unknown keys. */
function locate(text: string, path: string, atKey: boolean): string | undefined {
  let tree: JsonNode | undefined;
  try {
    tree = parseTree(text, [], { allowTrailingComma: true });
  } catch {
    return undefined; // too deep to build a tree: report without a location
  }
  if (!tree) return undefined;
  const segs: Segment[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) segs.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  let exact = true;
  let node: JsonNode | undefined = findNodeAtLocation(tree, segs);
  while (!node && segs.length) {
    segs.pop();
    exact = false;
    node = findNodeAtLocation(tree, segs);
  }
  if (!node) return undefined;
  if (exact && atKey && node.parent?.type === 'property' && node.parent.children?.[0]) node = node.parent.children[0];
  const { line, col } = lineCol(text, node.offset);
  return `${line}:${col}`;
}

function toQuantizeError(e: unknown, file: string, text?: string): unknown {
  if (!(e instanceof ConfigIssue)) return e;
  const at = text !== undefined ? locate(text, e.path, e.atKey) : undefined;
  return new QuantizeError(at ? `${e.message} (at ${at})` : e.message, {
    file,
    field: e.path || undefined,
    expected: e.expected,
  });
}
