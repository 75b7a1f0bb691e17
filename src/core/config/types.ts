// The POT configuration, after parsing and with every default filled in.
// Key names are POT's (README.md, "The config file"; POT's tools/pot/configs/accuracy_aware_quantization_spec.json).

import type { MetricName, Preset, QuantMode } from '../types';

/** POT's devices, and ONNXRUNTIME: a placement for onnxruntime's CPU/WASM integer kernels (src/core/quant/placement-ort.ts). */
export type TargetDevice = 'ANY' | 'CPU' | 'GPU' | 'VPU' | 'GNA' | 'CPU_SPR' | 'ONNXRUNTIME';

/** How AccuracyAwareQuantization reverts a group (`revert_mode`). */
export type RevertMode = 'FP32' | 'INT8_WEIGHTS';

export interface RangeEstimatorSide {
  type?: 'min' | 'max' | 'abs_max' | 'quantile' | 'abs_quantile';
  aggregator?: 'mean' | 'max' | 'min' | 'median' | 'mean_no_outliers' | 'median_no_outliers' | 'hl_estimator';
  outlier_prob?: number;
  clipping_value?: number;
}

export interface RangeEstimatorConfig {
  /** POT's named estimator preset: 'default' or 'quantile'. */
  preset?: 'default' | 'quantile';
  min?: RangeEstimatorSide;
  max?: RangeEstimatorSide;
}

export interface QuantizerOverride {
  mode?: QuantMode;
  granularity?: 'pertensor' | 'perchannel';
  bits?: number;
  range_estimator?: RangeEstimatorConfig;
}

export interface IgnoredScope {
  /** Node names. */
  scope: string[];
  /** Op types (ONNX or POT names), with optional attribute filters. */
  operations: { type: string; attributes?: Record<string, unknown> }[];
  skip_model?: boolean;
}

export interface DefaultQuantizationParams {
  preset: Preset;
  /** Number of calibration samples; POT: whole dataset, we default to 300 (NNCF), clamped to N. */
  stat_subset_size: number;
  target_device: TargetDevice;
  ignored: IgnoredScope;
  model_type: 'transformer' | null;
  range_estimator: RangeEstimatorConfig;
  activations: QuantizerOverride;
  weights: QuantizerOverride;
  use_fast_bias: boolean;
  /** Extension: switch bias correction off entirely. */
  bias_correction: boolean;
  shuffle_data: boolean;
  seed: number;
  inplace_statistics: boolean;
}

export interface MetricConfig {
  name: MetricName;
  /** POT: `type` defaults to `name`. */
  type?: MetricName;
  baseline_value?: number;
}

export interface AccuracyAwareParams extends DefaultQuantizationParams {
  ranking_subset_size: number | null; // null → min(N, 300)
  max_iter_num: number | null; // null → unbounded (number of groups)
  maximal_drop: number;
  drop_type: 'absolute' | 'relative';
  use_prev_if_drop_increase: boolean;
  base_algorithm: 'DefaultQuantization';
  convert_to_mixed_preset: boolean;
  metrics: MetricConfig[] | null; // null → every metric the engine reports
  metric_subset_ratio: number;
  tune_hyperparams: boolean;
  annotation_free: boolean;
  /** Fixes of POT's known flaws (off by default = POT's behaviour). */
  return_best: boolean;
  exclude_rolled_back: boolean;
  /**
   * Work savings beyond POT's schedule (on by default; none changes a decision — each is exact
   * given a deterministic engine whose per-sample metric values are bounded, see
   * QuantizationBackend.perSampleBounds; off = POT's evaluation schedule):
   * reuse per-sample values already computed for the same configuration (a ranking candidate is
   * the next iteration's model; a rolled-back model is a candidate of the re-ranking).
   */
  reuse_evaluations: boolean;
  /** Stop an iteration's full validation pass as soon as the loop's decision is certain whatever
   *  the remaining samples give (finished later only if an exact value is ever needed). */
  early_stop: boolean;
  /** Rank with upper bounds: score every group on the ranking samples that can still improve,
   *  and finish a group's score on the rest only when it reaches the top of the list. */
  lazy_ranking: boolean;
  /** Cache the unchanged prefix of the network: a ranking candidate differs from the one scored
   *  first only from its reverted group on, so its samples resume from cached activations at the
   *  deepest cut before that group (prefix-cache.ts). Changes cost, never a value (bit-exact). */
  prefix_cache: boolean;
  /** What reverting a group means (AAQ Studio extension): FP32 (POT's: every quantizer of the group off) or
   *  INT8_WEIGHTS (only its activation quantizers off, the weights stay INT8: NNCF's RestoreMode.ONLY_ACTIVATIONS). */
  revert_mode: RevertMode;
}

export interface PreprocessingStep {
  type: 'resize' | 'crop' | 'normalization';
  size?: number;
  dst_height?: number;
  dst_width?: number;
  mean?: number | number[];
  std?: number | number[];
}

export interface DatasetConfig {
  data_source: string;
  labels?: string;
  color: 'rgb' | 'bgr' | 'gray';
  layout?: 'NCHW' | 'NHWC';
  preprocessing: PreprocessingStep[];
}

export interface EngineConfig {
  type: 'accuracy_checker' | 'simplified';
  dataset: DatasetConfig;
  metrics: MetricConfig[];
}

export type AlgorithmConfig = { name: 'DefaultQuantization'; params: DefaultQuantizationParams } | { name: 'AccuracyAwareQuantization'; params: AccuracyAwareParams };

export interface PotConfig {
  model: { model_name: string; model: string };
  engine: EngineConfig;
  compression: { target_device: TargetDevice; algorithms: AlgorithmConfig[] };
}

export interface ParsedConfig {
  config: PotConfig;
  /** Keys POT knows but we ignore, and other non-fatal notes, each naming the key. */
  warnings: string[];
}
