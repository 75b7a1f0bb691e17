// Range estimators (POT `algorithms/quantization/range_estimator.py`,
// `algorithms/quantization/utils.py::get_tensor_statistics`, `statistics/functions/aggregation.py`).
//
// Pure TS: no DOM, no Node APIs.

import type { DefaultQuantizationParams, RangeEstimatorConfig, RangeEstimatorSide } from '../config/types';
import { QuantizeError, type Granularity, type QuantMode } from '../types';
import { AGGREGATORS, type AggregatorName, type StatType } from './aggregators';
import type { SampleStat } from './statistics';

// The numerics live in ./aggregators (shared with the statistics collector without an import cycle).
export { AGGREGATORS, aggregateMatrix, hodgesLehmann, medianSorted, noOutliers, quantileSorted, type AggregatorName, type StatType } from './aggregators';

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
      field: 'range_estimator.preset',
      expected: 'default | quantile',
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
        field: `range_estimator.${name}.aggregator`,
        expected: AGGREGATORS.join(' | '),
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
