// Metric directions, drops, thresholds and POT's multi-metric rules
// (POT `algorithms/quantization/accuracy_aware_common/algorithm.py`: `run`, `_change_quantization_scope`,
// `_drop_restrictions_are_met`; `accuracy_aware_common/utils.py::create_metric_config`).

import type { AccuracyAwareParams, MetricConfig } from '../config/types';
import { isMetricName, metricDefinition } from '../metrics/registry';
import { QuantizeError, type MetricDef } from '../types';

export type Direction = 'higher-better' | 'lower-better';

/** One metric AAQ watches: the engine's name, its direction and the user's baseline, if any. */
export interface MetricSpec {
  name: string;
  direction: Direction;
  baselineValue?: number;
}

export type Metrics = Record<string, number>;

/** POT's comparator: `x → x` for higher-better, `x → −x` for lower-better ("higher-worse"). */
export function comparator(direction: Direction): (x: number) => number {
  return direction === 'higher-better' ? (x) => x : (x) => -x;
}

/**
 * The metrics AAQ optimises: the configured ones (POT: `type` defaults to `name`) or, when none
 * are configured, every metric the engine reports. A configured metric the engine cannot compute
 * is an error here (POT silently skipped it, or returned the model unquantized when none was left).
 */
export function resolveMetrics(defs: MetricDef[], configured: MetricConfig[] | null): MetricSpec[] {
  if (!configured || configured.length === 0) {
    if (defs.length === 0) throw new QuantizeError('the engine reports no metric', { field: 'metrics' });
    return defs.map((d) => ({ name: d.name, direction: d.direction }));
  }
  const out: MetricSpec[] = [];
  for (const m of configured) {
    const key = m.type ?? m.name;
    const def = defs.find((d) => d.name === key);
    if (!def) {
      throw new QuantizeError(`metric "${key}" is not available on this data`, {
        field: 'metrics',
        expected: `one of ${defs.map((d) => d.name).join(', ') || '(none)'}`,
      });
    }
    if (out.some((o) => o.name === key)) continue;
    out.push({ name: key, direction: def.direction, ...(m.baseline_value !== undefined ? { baselineValue: m.baseline_value } : {}) });
  }
  return out;
}

/** True when every configured metric carries a `baseline_value` (POT: FP32 is not evaluated up front). */
export function allBaselinesGiven(specs: MetricSpec[]): boolean {
  return specs.length > 0 && specs.every((s) => s.baselineValue !== undefined);
}

/** Pick the AAQ metrics out of an evaluation, failing clearly when the engine did not report one. */
export function pickMetrics(specs: MetricSpec[], values: Metrics): Metrics {
  const out: Metrics = {};
  for (const s of specs) {
    const v = values[s.name];
    if (typeof v !== 'number') throw new QuantizeError(`the evaluation did not report metric "${s.name}"`);
    out[s.name] = v;
  }
  return out;
}

/** `drop[m] = comparator(baseline[m] − current[m])`. */
export function computeDrops(specs: MetricSpec[], baseline: Metrics, current: Metrics): Metrics {
  const out: Metrics = {};
  for (const s of specs) out[s.name] = comparator(s.direction)(baseline[s.name] - current[s.name]);
  return out;
}

/** Absolute: `maximal_drop`; relative: `baseline[m] × maximal_drop` (POT, per metric). */
export function computeThresholds(specs: MetricSpec[], baseline: Metrics, params: Pick<AccuracyAwareParams, 'maximal_drop' | 'drop_type'>): Metrics {
  const out: Metrics = {};
  for (const s of specs) {
    out[s.name] = params.drop_type === 'relative' ? baseline[s.name] * params.maximal_drop : params.maximal_drop;
  }
  return out;
}

/** Drops that differ from the limit by less than this count as equal to it. POT compares exactly,
 *  so a drop of 0.010000000000000009 (1 − 0.99 in floating point) missed a `maximal_drop` of 0.01. */
export const DROP_TOLERANCE = 1e-9;

/** `drop ≤ limit`, float noise tolerated (DROP_TOLERANCE): every comparison with `maximal_drop`. */
export function withinLimit(drop: number, limit: number): boolean {
  return drop <= limit + DROP_TOLERANCE;
}

/** POT's stop test: `drop[m] ≤ max_drop[m]` for all metrics (inclusive, float noise tolerated). */
export function restrictionsMet(specs: MetricSpec[], drop: Metrics, thresholds: Metrics): boolean {
  return specs.every((s) => withinLimit(drop[s.name], thresholds[s.name]));
}

/** `(drop − max_drop) / baseline`; a zero baseline counts as 1 (POT would divide by zero). */
export function normalizedExcess(name: string, drop: Metrics, thresholds: Metrics, baseline: Metrics): number {
  const b = baseline[name];
  return (drop[name] - thresholds[name]) / (b === 0 ? 1 : b);
}

/**
 * The metric with the largest normalized excess. POT sorts ascending by the key (a stable sort)
 * and takes the last entry, so among equal keys the LAST metric in config order wins.
 */
export function metricToOptimize(specs: MetricSpec[], drop: Metrics, thresholds: Metrics, baseline: Metrics): string {
  let best = specs[0].name;
  let bestKey = -Infinity;
  for (const s of specs) {
    const key = normalizedExcess(s.name, drop, thresholds, baseline);
    if (key >= bestKey) {
      best = s.name;
      bestKey = key;
    }
  }
  return best;
}

/** Mean of the drops over the metrics (tune_hyperparams keeps the tuned model only if this improves). */
export function meanDrop(specs: MetricSpec[], drop: Metrics): number {
  return specs.reduce((a, s) => a + drop[s.name], 0) / specs.length;
}

/**
 * A "how far from the target" key for `return_best`: the worst normalized excess over metrics
 * (for one metric this orders exactly like the drop itself). Lower is better; ≤ 0 means met.
 */
export function worstExcess(specs: MetricSpec[], drop: Metrics, thresholds: Metrics, baseline: Metrics): number {
  return Math.max(...specs.map((s) => normalizedExcess(s.name, drop, thresholds, baseline)));
}

/** Label-free mode: every metric is a registered one that needs no labels and compares with the
 *  FP32 model (e.g. agreement@top1), i.e. the values are relative to the FP32 model. */
export function isLabelFree(specs: MetricSpec[]): boolean {
  return (
    specs.length > 0 &&
    specs.every((s) => {
      if (!isMetricName(s.name)) return false;
      const d = metricDefinition(s.name);
      return !d.needsLabels && d.needsFp32Reference;
    })
  );
}
