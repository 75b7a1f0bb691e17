// Parameter plumbing between AccuracyAwareQuantization and its base algorithm
// (pot-aaq-reference.md §1.3, accuracy_aware_common/utils.py).

import type { AccuracyAwareParams, DefaultQuantizationParams } from '../config/types';

/** The DefaultQuantization part of the AAQ parameters (what `backend.quantize` receives). */
export function baseParams(params: AccuracyAwareParams): DefaultQuantizationParams {
  const {
    ranking_subset_size: _r,
    max_iter_num: _m,
    maximal_drop: _d,
    drop_type: _t,
    use_prev_if_drop_increase: _u,
    base_algorithm: _b,
    convert_to_mixed_preset: _c,
    metrics: _me,
    metric_subset_ratio: _s,
    tune_hyperparams: _h,
    annotation_free: _a,
    return_best: _rb,
    exclude_rolled_back: _e,
    reuse_evaluations: _re,
    early_stop: _es,
    lazy_ranking: _lr,
    prefix_cache: _pc,
    ...rest
  } = params;
  return clone(rest);
}

/**
 * POT's `is_preset_performance`: true if both explicit modes are symmetric; false if either
 * explicit mode is asymmetric; otherwise true exactly when the preset is `performance`.
 */
export function isPresetPerformance(p: DefaultQuantizationParams): boolean {
  const w = p.weights?.mode;
  const a = p.activations?.mode;
  if (w === 'symmetric' && a === 'symmetric') return true;
  if (w === 'asymmetric' || a === 'asymmetric') return false;
  return p.preset === 'performance';
}

/**
 * POT's `get_mixed_preset_config`: preset `mixed`; an explicit activation mode becomes asymmetric
 * and an explicit weight mode symmetric.
 */
export function mixedPresetParams(p: DefaultQuantizationParams): DefaultQuantizationParams {
  const out = clone(p);
  out.preset = 'mixed';
  if (out.activations?.mode) out.activations.mode = 'asymmetric';
  if (out.weights?.mode) out.weights.mode = 'symmetric';
  return out;
}

/** Deep copy of plain JSON data. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** JSON with object keys sorted, so equal parameter sets compare equal whatever their key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
