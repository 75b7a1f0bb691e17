// The metric registry: every metric the tool computes, each declared in its own file
// (definition.ts says what a metric declares). Config validation, the studio's form, the
// evaluation (onnx-backend.ts), the "data has no labels" check and the AAQ savings' per-sample
// bounds all read it; the README's metric list is checked against it (metric-registry.test.ts).
//
// Adding a metric: its file, one line in BUILTIN below, and its name in README.md's metric list.

import { QuantizeError, type MetricDef } from '../types';
import { accuracyTopK } from './accuracy-topk';
import { agreementTop1 } from './agreement-top1';
import type { MetricDefinition, SampleOutput } from './definition';

export { defineMetric } from './definition';
export type { Direction, MetricDefinition, MetricSample, SampleOutput } from './definition';

/** The metrics, in the order configs, the studio and the README list them. */
const BUILTIN: readonly MetricDefinition[] = [accuracyTopK(1), accuracyTopK(5), agreementTop1];

/** The metric of a config that names none. */
export const DEFAULT_METRIC = 'accuracy@top1';

const registered: MetricDefinition[] = [];
const names: string[] = [];

/** Names of the registered metrics, in order (a live list: registerMetric adds to it). */
export const METRIC_NAMES: readonly string[] = names;

/**
 * Registers a metric after the others (built-ins at load; tests and embedders may add more).
 * Returns a function that removes it again.
 */
export function registerMetric(def: MetricDefinition): () => void {
  const where = `metric ${JSON.stringify(def.name)}`;
  if (typeof def.name !== 'string' || !def.name.trim()) throw new Error('a metric needs a name');
  if (names.includes(def.name)) throw new Error(`${where} is already registered`);
  if (def.direction !== 'higher-better' && def.direction !== 'lower-better') throw new Error(`${where}: direction must be higher-better or lower-better`);
  if (def.needsFp32Reference !== !!def.reference) throw new Error(`${where}: needsFp32Reference and reference must come together`);
  if (def.reduce !== 'mean' && typeof def.reduce !== 'function') throw new Error(`${where}: reduce must be 'mean' or a function`);
  if (def.bounds !== null) {
    const [lo, hi] = def.bounds;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new Error(`${where}: bounds must be finite [lo, hi] with lo ≤ hi, or null`);
  }
  const ac = def.accuracyChecker;
  if (ac && registered.some((d) => d.accuracyChecker?.type === ac.type && d.accuracyChecker.top_k === ac.top_k)) {
    throw new Error(`${where}: another metric is already ${JSON.stringify(ac)}`);
  }
  registered.push(def);
  names.push(def.name);
  return () => {
    const i = registered.indexOf(def);
    if (i < 0) return;
    registered.splice(i, 1);
    names.splice(i, 1);
  };
}

for (const d of BUILTIN) registerMetric(d);

export function isMetricName(name: string): boolean {
  return names.includes(name);
}

/** The registered metrics, in order. */
export function metricDefinitions(): readonly MetricDefinition[] {
  return [...registered];
}

/** A registered metric; an unknown name is a QuantizeError naming the known ones. */
export function metricDefinition(name: string): MetricDefinition {
  const d = registered[names.indexOf(name)];
  if (!d) throw new QuantizeError(`unknown metric '${name}'`, { field: 'metrics', expected: names.join(', ') });
  return d;
}

/** What the AAQ loop needs of a metric (name, direction, needsLabels). */
export function metricDef(name: string): MetricDef {
  const d = metricDefinition(name);
  return { name: d.name, direction: d.direction, needsLabels: d.needsLabels };
}

// ---------------------------------------------------------------------------------------------
// Labels

/** The metrics of `names` that need labels (in the given order; unknown names throw). */
export function metricsNeedingLabels(names: readonly string[]): string[] {
  return names.filter((n) => metricDefinition(n).needsLabels);
}

/** The registered metrics that need no labels. */
export function labelFreeMetricNames(): string[] {
  return registered.filter((d) => !d.needsLabels).map((d) => d.name);
}

function orLabelFree(prefix: string): string {
  const free = labelFreeMetricNames();
  if (free.length === 0) return '';
  return `${prefix}${free.length === 1 ? `the metric ${free[0]}` : `one of the metrics ${free.join(', ')}`}`;
}

/**
 * The "data has no labels" check of a run: throws when the data has no labels and one of the
 * metrics needs them. `where` names the config file and field in the message (field default
 * engine.metrics).
 */
export function checkMetricsLabels(names: readonly string[], hasLabels: boolean, where: { file?: string; field?: string } = {}): void {
  if (hasLabels) return;
  const needing = metricsNeedingLabels(names);
  if (needing.length === 0) return;
  throw new QuantizeError(`the data has no labels, but the metric ${needing[0]} needs them`, {
    file: where.file,
    field: where.field ?? 'engine.metrics',
    expected: `labels (class subfolders or a labels file)${orLabelFree(', or ')}`,
  });
}

// ---------------------------------------------------------------------------------------------
// AAQ work savings

/**
 * The per-sample bounds the AAQ savings (reuse_evaluations, early_stop, lazy_ranking) may rely on
 * for a metric: its declared bounds when its dataset value is the mean of its per-sample values,
 * else null (the savings then run POT's schedule).
 */
export function savingsBounds(name: string): [number, number] | null {
  const d = metricDefinition(name);
  return d.bounds && d.reduce === 'mean' ? [d.bounds[0], d.bounds[1]] : null;
}

const SAVINGS = ['reuse_evaluations', 'early_stop', 'lazy_ranking'] as const;

/**
 * Warnings for a run whose metrics turn the AAQ savings off: one per metric without usable
 * per-sample bounds, naming the savings `params` asked for (none asked for: no warning). The AAQ
 * loop (algorithms/aaq-lazy.ts, activeSavings) applies the savings only when every metric it
 * watches has bounds, so such a metric turns them off for the whole run. Unknown names are skipped.
 */
export function savingsWarnings(metricNames: readonly string[], params: { reuse_evaluations?: boolean; early_stop?: boolean; lazy_ranking?: boolean }): string[] {
  const on = SAVINGS.filter((k) => params[k] === true);
  if (on.length === 0) return [];
  const list = on.length === 1 ? on[0] : `${on.slice(0, -1).join(', ')} and ${on[on.length - 1]}`;
  const out: string[] = [];
  for (const name of new Set(metricNames)) {
    const d = registered[names.indexOf(name)];
    if (!d) continue;
    const why = d.bounds === null ? 'promises no bounds for its per-sample values' : d.reduce !== 'mean' ? 'is not the mean of its per-sample values' : null;
    if (!why) continue;
    out.push(`metric ${name} ${why}: ${list} ${on.length === 1 ? 'is' : 'are'} off for this run ` + `(POT's evaluation schedule: the same decisions, more evaluation work)`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Accuracy Checker spellings and documentation

/** The metric an Accuracy Checker {"type", "top_k"} means (top_k defaults to 1 for a type that has it). */
export function metricForAccuracyChecker(type: string, topK: number | undefined): string | undefined {
  for (const d of registered) {
    const a = d.accuracyChecker;
    if (!a || a.type !== type) continue;
    if (a.top_k === undefined ? topK === undefined : a.top_k === (topK ?? 1)) return d.name;
  }
  return undefined;
}

/** Accuracy Checker types with the top_k values registered for each (empty: the type has none). */
export function accuracyCheckerTypes(): { type: string; topK: number[] }[] {
  const out: { type: string; topK: number[] }[] = [];
  for (const d of registered) {
    const a = d.accuracyChecker;
    if (!a) continue;
    let t = out.find((x) => x.type === a.type);
    if (!t) out.push((t = { type: a.type, topK: [] }));
    if (a.top_k !== undefined) t.topK.push(a.top_k);
  }
  return out;
}

/** The metric list as README.md's config example writes it: `accuracy@top1 | … | agreement@top1 (no labels)`. */
export function metricsDocLine(): string {
  return registered.map((d) => d.name + (d.needsLabels ? '' : ' (no labels)')).join(' | ');
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** The dataset-level value of a 'mean' metric: the left-to-right mean (NaN when there are none). */
export function aggregate(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** One metric over the samples of one evaluation, added in index order. */
export class MetricTally {
  /** Per-sample values, in the order added. */
  readonly values: number[] = [];
  private readonly stats: unknown[] = [];

  constructor(readonly def: MetricDefinition) {}

  /** Adds one sample; `reference` is the metric's `reference.of` of the sample's FP32 output. */
  add(output: SampleOutput, label: number, reference?: unknown): number {
    const d = this.def;
    if (d.needsLabels && label === -1) {
      throw new QuantizeError(`${d.name} needs labels but the dataset has none`, { expected: `a labels file, class subfolders${orLabelFree(', or ')}` });
    }
    if (d.needsFp32Reference && reference === undefined) throw new QuantizeError(`${d.name} needs ${d.reference!.what}`);
    const stat = d.sample({ output, label, reference });
    const v = d.value ? d.value(stat) : stat;
    if (typeof v !== 'number') throw new Error(`metric ${d.name} gave a per-sample value that is not a number`);
    if (d.reduce !== 'mean') this.stats.push(stat);
    this.values.push(v);
    return v;
  }

  /** The dataset value of the samples added. */
  result(): number {
    const r = this.def.reduce;
    return r === 'mean' ? aggregate(this.values) : r(this.stats);
  }
}
