// Parameter plumbing between AccuracyAwareQuantization and its base algorithm
// (POT `algorithms/quantization/accuracy_aware_common/utils.py`).

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
    revert_mode: _rm,
    ...rest
  } = params;
  return clone(rest);
}

// The preset rules have one implementation, in quant/presets.ts (an empty preset counts as
// `performance`, POT's default); re-exported here for the AAQ code that imports them from ./params.
export { isPresetPerformance, mixedPresetParams } from '../quant/presets';

/** Deep copy of plain JSON data. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** JSON with object keys sorted, so equal parameter sets compare equal whatever their key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
