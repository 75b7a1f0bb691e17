// Range estimators (reference §1.5; POT `algorithms/quantization/range_estimator.py`,
// `algorithms/quantization/utils.py::get_tensor_statistics`, `statistics/functions/aggregation.py`).
//
// Pure TS: no DOM, no Node APIs.

import type { DefaultQuantizationParams, RangeEstimatorConfig, RangeEstimatorSide } from '../config/types';
import { QuantizeError, type Granularity, type QuantMode } from '../types';
import type { SampleStat } from './statistics';

export type StatType = NonNullable<RangeEstimatorSide['type']>;
export type AggregatorName = NonNullable<RangeEstimatorSide['aggregator']>;

export const AGGREGATORS: readonly AggregatorName[] = [
  'mean', 'max', 'min', 'median', 'mean_no_outliers', 'median_no_outliers', 'hl_estimator',
];

/** One side (min or max) of a resolved activation estimator. */
export interface ResolvedSide {
  type: StatType;
  aggregator: AggregatorName;
  /** Set for quantile / abs_quantile (default 1e-4, as POT's `append_estimator_configs`). */
  outlier_prob?: number;
  clipping_value?: number;
  /** Granularity of the per-sample statistic (per-channel symmetric: min is per-tensor). */
  granularity: Granularity;
}

export interface ActivationEstimator {
  min: ResolvedSide;
  max: ResolvedSide;
}

/** Weights have no aggregator; symmetric weights only need `max`. */
export interface WeightSide {
  type: StatType;
  outlier_prob?: number;
  clipping_value?: number;
}

export interface WeightEstimator {
  min?: WeightSide;
  max: WeightSide;
}

type SideDefaults = Partial<RangeEstimatorSide> & { granularity?: Granularity };
type PresetTable = Record<Granularity, Record<QuantMode, { min: SideDefaults; max: SideDefaults }>>;

/** POT DEFAULT_ACTIVATIONS_RANGE_ESTIMATOR_CONFIG. */
const DEFAULT_ACTIVATIONS: PresetTable = {
  perchannel: {
    symmetric: { min: { aggregator: 'min', type: 'min', granularity: 'pertensor' }, max: { aggregator: 'max', type: 'abs_max' } },
    asymmetric: { min: { aggregator: 'min', type: 'min' }, max: { aggregator: 'max', type: 'max' } },
  },
  pertensor: {
    symmetric: { min: { aggregator: 'min', type: 'min' }, max: { aggregator: 'mean', type: 'abs_max' } },
    asymmetric: { min: { aggregator: 'mean', type: 'min' }, max: { aggregator: 'mean', type: 'max' } },
  },
};

/** POT QUANTILE_ACTIVATIONS_RANGE_ESTIMATOR_CONFIG (note: symmetric min stays a plain `min`). */
const QUANTILE_ACTIVATIONS: PresetTable = {
  perchannel: {
    symmetric: {
      min: { aggregator: 'min', type: 'min', granularity: 'pertensor' },
      max: { aggregator: 'max', type: 'abs_quantile', outlier_prob: 1e-4 },
    },
    asymmetric: {
      min: { aggregator: 'min', type: 'quantile', outlier_prob: 1e-4 },
      max: { aggregator: 'max', type: 'quantile', outlier_prob: 1e-4 },
    },
  },
  pertensor: {
    symmetric: {
      min: { aggregator: 'min', type: 'min' },
      max: { aggregator: 'mean', type: 'abs_quantile', outlier_prob: 1e-4 },
    },
    asymmetric: {
      min: { aggregator: 'mean', type: 'quantile', outlier_prob: 1e-4 },
      max: { aggregator: 'mean', type: 'quantile', outlier_prob: 1e-4 },
    },
  },
};

const DEFAULT_WEIGHTS: Record<QuantMode, { min?: SideDefaults; max: SideDefaults }> = {
  symmetric: { max: { type: 'abs_max' } },
  asymmetric: { min: { type: 'min' }, max: { type: 'max' } },
};
const QUANTILE_WEIGHTS: Record<QuantMode, { min?: SideDefaults; max: SideDefaults }> = {
  symmetric: { max: { type: 'abs_quantile', outlier_prob: 1e-4 } },
  asymmetric: { min: { type: 'quantile', outlier_prob: 1e-4 }, max: { type: 'quantile', outlier_prob: 1e-4 } },
};

type EstimatorParams = Pick<DefaultQuantizationParams, 'range_estimator'> & {
  activations?: { range_estimator?: RangeEstimatorConfig } | null;
  weights?: { range_estimator?: RangeEstimatorConfig } | null;
};

/**
 * POT `get_range_estimator_config`: the tensor-type block (`activations.range_estimator`) replaces
 * the global `range_estimator` when present (no merge between the two); its `preset` picks the
 * table; its `min`/`max` fields are merged over the table entry.
 */
function pickConfig(params: EstimatorParams, kind: 'activations' | 'weights'): RangeEstimatorConfig {
  return params[kind]?.range_estimator ?? params.range_estimator ?? {};
}

function presetOf(cfg: RangeEstimatorConfig): 'default' | 'quantile' {
  const p = cfg.preset ?? 'default';
  if (p !== 'default' && p !== 'quantile') {
    throw new QuantizeError(`unknown range estimator preset '${String(p)}'`, {
      field: 'range_estimator.preset', expected: 'default | quantile',
    });
  }
  return p;
}

function mergeSide(base: SideDefaults | undefined, user: RangeEstimatorSide | undefined): SideDefaults {
  const out: SideDefaults = { ...(base ?? {}) };
  if (user) {
    for (const [k, v] of Object.entries(user)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function finishQuantile<T extends { type: StatType; outlier_prob?: number }>(s: T): T {
  if ((s.type === 'quantile' || s.type === 'abs_quantile') && s.outlier_prob === undefined) s.outlier_prob = 1e-4;
  return s;
}

/** The effective estimator of an activation quantizer with the given granularity and mode. */
export function activationEstimator(params: EstimatorParams, granularity: Granularity, mode: QuantMode): ActivationEstimator {
  const cfg = pickConfig(params, 'activations');
  const table = presetOf(cfg) === 'quantile' ? QUANTILE_ACTIVATIONS : DEFAULT_ACTIVATIONS;
  const entry = table[granularity][mode];
  const side = (name: 'min' | 'max'): ResolvedSide => {
    const m = mergeSide(entry[name], cfg[name]);
    if (!m.type || !m.aggregator) {
      throw new QuantizeError('incomplete range estimator', { field: `range_estimator.${name}`, expected: 'type and aggregator' });
    }
    if (!AGGREGATORS.includes(m.aggregator)) {
      throw new QuantizeError(`unknown aggregator '${m.aggregator}'`, {
        field: `range_estimator.${name}.aggregator`, expected: AGGREGATORS.join(' | '),
      });
    }
    const r: ResolvedSide = { type: m.type, aggregator: m.aggregator, granularity: m.granularity ?? granularity };
    if (m.outlier_prob !== undefined) r.outlier_prob = m.outlier_prob;
    if (m.clipping_value !== undefined) r.clipping_value = m.clipping_value;
    return finishQuantile(r);
  };
  return { min: side('min'), max: side('max') };
}

/** The effective estimator of a weight quantizer (per output channel; no aggregator). */
export function weightEstimator(params: EstimatorParams, mode: QuantMode): WeightEstimator {
  const cfg = pickConfig(params, 'weights');
  const entry = (presetOf(cfg) === 'quantile' ? QUANTILE_WEIGHTS : DEFAULT_WEIGHTS)[mode];
  const side = (name: 'min' | 'max'): WeightSide | undefined => {
    if (!entry[name] && !cfg[name]) return undefined;
    const m = mergeSide(entry[name], cfg[name]);
    if (!m.type) return undefined;
    const r: WeightSide = { type: m.type };
    if (m.outlier_prob !== undefined) r.outlier_prob = m.outlier_prob;
    if (m.clipping_value !== undefined) r.clipping_value = m.clipping_value;
    return finishQuantile(r);
  };
  const max = side('max');
  if (!max) throw new QuantizeError('weight range estimator has no max', { field: 'weights.range_estimator.max' });
  const min = mode === 'asymmetric' ? side('min') : undefined;
  return min ? { min, max } : { max };
}

/**
 * The quantile level POT uses for a side: `outlier_prob` for min, `1 − outlier_prob` for max
 * (`get_tensor_statistics`); undefined for non-quantile types.
 */
export function quantileLevel(sideName: 'min' | 'max', side: { type: StatType; outlier_prob?: number }): number | undefined {
  if (side.type !== 'quantile' && side.type !== 'abs_quantile') return undefined;
  const p = side.outlier_prob ?? 1e-4;
  return sideName === 'max' ? 1 - p : p;
}

/** The per-sample statistic one side of an activation estimator needs from the collector. */
export function sampleStatFor(sideName: 'min' | 'max', side: ResolvedSide): SampleStat {
  const q = quantileLevel(sideName, side);
  return q === undefined ? { type: side.type, granularity: side.granularity } : { type: side.type, q, granularity: side.granularity };
}

/** Per-sample statistics a collector must gather for this estimator (deduplicated by the collector). */
export function sampleStatsFor(est: ActivationEstimator): SampleStat[] {
  return [sampleStatFor('min', est.min), sampleStatFor('max', est.max)];
}

/** Aggregated min / max of one activation from a collector (see `TensorStatsCollector.aggregate`). */
export function aggregateEstimator(
  collector: { aggregate(stat: SampleStat, aggregator: AggregatorName): Float64Array },
  est: ActivationEstimator,
): { min: Float64Array; max: Float64Array } {
  return {
    min: collector.aggregate(sampleStatFor('min', est.min), est.min.aggregator),
    max: collector.aggregate(sampleStatFor('max', est.max), est.max.aggregator),
  };
}

/** The `clipping_value`s of an activation estimator, as `activationParams` options. */
export function clippingOptions(est: ActivationEstimator): { clipMin?: number; clipMax?: number } {
  const o: { clipMin?: number; clipMax?: number } = {};
  if (est.min.clipping_value !== undefined) o.clipMin = est.min.clipping_value;
  if (est.max.clipping_value !== undefined) o.clipMax = est.max.clipping_value;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Numerics shared with the collector

/**
 * `np.quantile(a, q)` with the default 'linear' method on an ascending-sorted array:
 * virtual index `n·q + (1 − q) − 1` (= q·(n−1)), then numpy's `_lerp`, which interpolates from
 * the upper neighbour when the fraction is ≥ 0.5.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const v = n * q + (1 + q * (1 - 1 - 1)) - 1;
  if (v <= 0) return sorted[0];
  if (v >= n - 1) return sorted[n - 1];
  const prev = Math.floor(v);
  const g = v - prev;
  const a = sorted[prev];
  const b = sorted[prev + 1];
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/** `np.median` on an ascending-sorted array: the middle element, or the mean of the two middle. */
export function medianSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
}

function sortedCopy(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x).sort();
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
const SIGN = 0x7fffffffffffffffn;
/** Order-preserving map of finite doubles to integers (adjacent doubles → adjacent keys). */
function keyOf(v: number): bigint {
  f64[0] = v;
  const b = i64[0];
  return b >= 0n ? b : -(b & SIGN);
}
function fromKey(k: bigint): number {
  i64[0] = k >= 0n ? k : -k | ~SIGN;
  return f64[0];
}

/**
 * k-th smallest (1-based) of the pairwise sums `x[i] + x[j]`, i < j, of an ascending-sorted `x`,
 * without materialising the n(n−1)/2 sums: bisection over the doubles (by bit pattern, so at
 * most 64 steps) on the count of sums ≤ v, a two-pointer pass. Float addition is monotone, so
 * the count is a step function that jumps exactly at the computed sums, and the bisection ends
 * on the k-th computed sum.
 */
function kthPairSum(x: Float64Array, k: number): number {
  const n = x.length;
  const countLE = (v: number): number => {
    let c = 0;
    let j = n - 1;
    for (let i = 0; i < n; i++) {
      while (j > i && x[i] + x[j] > v) j--;
      if (j <= i) break;
      c += j - i;
    }
    return c;
  };
  const first = x[0] + x[1];
  if (countLE(first) >= k) return first;
  let lo = keyOf(first); // count(lo) < k
  let hi = keyOf(x[n - 2] + x[n - 1]); // count(hi) = all pairs ≥ k
  while (hi - lo > 1n) {
    const mid = lo + (hi - lo) / 2n;
    if (countLE(fromKey(mid)) >= k) hi = mid;
    else lo = mid;
  }
  return fromKey(hi);
}

/**
 * POT `hodges_lehmann_mean`: `0.5 · median({x_i + x_j : i > j})` over all samples
 * (`np.tril_indices(n, -1)`: distinct pairs, the diagonal excluded).
 * Deviation: with a single sample POT gets the median of an empty set (NaN); we return x[0].
 */
export function hodgesLehmann(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (n === 1) return values[0];
  const x = sortedCopy(values);
  const m = (n * (n - 1)) / 2;
  if (m % 2 === 1) return 0.5 * kthPairSum(x, (m + 1) / 2);
  return 0.5 * ((kthPairSum(x, m / 2) + kthPairSum(x, m / 2 + 1)) / 2);
}

/**
 * POT `no_outliers_estimator(base, x, alpha=0.01)`: drop values outside
 * `[np.quantile(x, 0.01), np.quantile(x, 0.99)]` (inclusive, linear interpolation, over all
 * samples of the channel), then apply `base` (mean or median) to what is left.
 */
export function noOutliers(values: ArrayLike<number>, base: 'mean' | 'median', alpha = 0.01): number {
  const s = sortedCopy(values);
  const lo = quantileSorted(s, alpha);
  const hi = quantileSorted(s, 1 - alpha);
  const kept = s.filter((v) => v >= lo && v <= hi);
  if (base === 'median') return medianSorted(kept);
  let sum = 0;
  for (const v of kept) sum += v;
  return kept.length ? sum / kept.length : NaN;
}

/**
 * Aggregate per-sample values over samples, per column. `values` is row-major `[n, c]`
 * (n samples, c = 1 per-tensor or the channel count). POT's aggregators receive the per-batch
 * list of `[batch, c]` arrays; with calibration batch 1 (POT's normal case) `mean` (mean of batch
 * means) is the plain mean over samples, which is what we compute for any batch size.
 */
export function aggregateMatrix(values: ArrayLike<number>, n: number, c: number, agg: AggregatorName): Float64Array {
  if (n <= 0) throw new QuantizeError('no statistics collected (0 samples)', { expected: 'at least one calibration sample' });
  const out = new Float64Array(c);
  const col = new Float64Array(n);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < n; i++) col[i] = values[i * c + ch];
    let r: number;
    switch (agg) {
      case 'mean': {
        let s = 0;
        for (let i = 0; i < n; i++) s += col[i];
        r = s / n;
        break;
      }
      case 'max': {
        r = -Infinity;
        for (let i = 0; i < n; i++) if (col[i] > r || Number.isNaN(col[i])) r = col[i];
        break;
      }
      case 'min': {
        r = Infinity;
        for (let i = 0; i < n; i++) if (col[i] < r || Number.isNaN(col[i])) r = col[i];
        break;
      }
      case 'median': r = medianSorted(sortedCopy(col)); break;
      case 'mean_no_outliers': r = noOutliers(col, 'mean'); break;
      case 'median_no_outliers': r = noOutliers(col, 'median'); break;
      case 'hl_estimator': r = hodgesLehmann(col); break;
      default:
        throw new QuantizeError(`unknown aggregator '${String(agg)}'`, { expected: AGGREGATORS.join(' | ') });
    }
    out[ch] = r;
  }
  return out;
}
