// Default values of the POT config (POT `configs/config.py`, the algorithms' defaults in
// `algorithms/quantization/default/algorithm.py` and `accuracy_aware_common/algorithm.py`), as fresh objects.

import { DEFAULT_METRIC, METRIC_NAMES } from '../metrics/registry';
import type { Preset } from '../types';
import type { AccuracyAwareParams, DatasetConfig, DefaultQuantizationParams, MetricConfig, TargetDevice } from './types';

export const TARGET_DEVICES: readonly TargetDevice[] = ['ANY', 'CPU', 'GPU', 'VPU', 'GNA', 'CPU_SPR', 'ONNXRUNTIME'];
export const PRESETS: readonly Preset[] = ['performance', 'mixed', 'accuracy'];
/** The registered metrics (src/core/metrics/registry.ts). */
export { METRIC_NAMES };
export const ALGORITHM_NAMES = ['DefaultQuantization', 'AccuracyAwareQuantization'] as const;

/** POT's default is the whole data set; we follow NNCF's 300 (clamped to N when used). */
export const DEFAULT_STAT_SUBSET_SIZE = 300;

export function defaultDqParams(target_device: TargetDevice = 'ANY'): DefaultQuantizationParams {
  return {
    preset: 'performance',
    stat_subset_size: DEFAULT_STAT_SUBSET_SIZE,
    target_device,
    ignored: { scope: [], operations: [] },
    model_type: null,
    range_estimator: {},
    activations: {},
    weights: {},
    use_fast_bias: true,
    bias_correction: true,
    shuffle_data: false,
    seed: 0,
    inplace_statistics: true,
  };
}

export function defaultAaqParams(target_device: TargetDevice = 'ANY'): AccuracyAwareParams {
  return {
    ...defaultDqParams(target_device),
    ranking_subset_size: null,
    max_iter_num: null,
    maximal_drop: 0.01,
    drop_type: 'absolute',
    use_prev_if_drop_increase: true,
    base_algorithm: 'DefaultQuantization',
    convert_to_mixed_preset: false,
    metrics: null,
    metric_subset_ratio: 0.5,
    tune_hyperparams: false,
    annotation_free: false,
    return_best: false,
    exclude_rolled_back: false,
    reuse_evaluations: true,
    early_stop: true,
    lazy_ranking: true,
    prefix_cache: true,
    revert_mode: 'FP32',
  };
}

export function defaultMetrics(): MetricConfig[] {
  return [{ name: DEFAULT_METRIC }];
}

export function defaultDataset(data_source = ''): DatasetConfig {
  return { data_source, color: 'rgb', preprocessing: [] };
}

/** `model.model_name` when not given: the model file's base name without extension, else "model". */
export function modelNameFrom(modelPath: string): string {
  const base = modelPath.split(/[\\/]/).filter(Boolean).pop() ?? '';
  const stem = base.replace(/\.(onnx|xml|ort)$/i, '');
  return stem || 'model';
}
