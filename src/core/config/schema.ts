// The POT config, section by section, as tables of checks (check.ts). Key names are POT's
// (the format README.md documents; POT's tools/pot/configs/default_quantization_spec.json and
// accuracy_aware_quantization_spec.json).

import { accuracyCheckerTypes, isMetricName, METRIC_NAMES, metricDefinition, metricForAccuracyChecker } from '../metrics/registry';
import type { MetricName, Preset } from '../types';
import { bool, type Check, type Extra, type Fields, fail, int, listOf, nonEmptyStr, nullable, num, numbers, objectCheck, oneOf, readSection, section, str } from './check';
import { PRESETS, TARGET_DEVICES } from './defaults';
import type {
  AccuracyAwareParams,
  DatasetConfig,
  DefaultQuantizationParams,
  IgnoredScope,
  MetricConfig,
  PreprocessingStep,
  QuantizerOverride,
  RangeEstimatorConfig,
  RangeEstimatorSide,
} from './types';

const NOT_IMPLEMENTED = 'POT option not implemented in AAQ Studio; ignored';

// ---------------------------------------------------------------------------------------------
// Metrics (Accuracy Checker vocabulary: {"name": "accuracy@top1", "type": "accuracy", "top_k": 1}).
// The names, and the {"type", "top_k"} spellings, are the registry's (src/core/metrics/registry.ts).

const isAccuracyCheckerType = (s: string): boolean => accuracyCheckerTypes().some((t) => t.type === s);

/** The registered metric an Accuracy Checker {"type", "top_k"} means (top_k defaults to 1). */
function byAccuracyChecker(type: string, k: number | undefined, path: string): MetricName {
  const name = metricForAccuracyChecker(type, k);
  if (name !== undefined) return name;
  const ks = accuracyCheckerTypes().find((t) => t.type === type)?.topK ?? [];
  if (ks.length === 0) return fail(`${path}.top_k`, `metric type ${type} takes no top_k`, 'no top_k');
  return fail(`${path}.top_k`, `top_k ${k ?? 1} is not supported`, `top_k ${ks.join(' or ')}`);
}

interface RawMetric {
  name: string;
  type: string;
  top_k: number;
  baseline_value: number;
}

const metricFields: Fields<RawMetric> = { name: nonEmptyStr, type: nonEmptyStr, top_k: int(1), baseline_value: num() };
const metricExtra: Extra = {
  reference: 'Accuracy Checker reference value; ignored (use baseline_value in the AccuracyAwareQuantization metrics)',
  threshold: `Accuracy Checker option; ignored`,
  abs_threshold: 'Accuracy Checker option; ignored',
  rel_threshold: 'Accuracy Checker option; ignored',
  presenter: 'Accuracy Checker option; ignored',
};
function metricExpected(): string {
  const ac = accuracyCheckerTypes().map(({ type, topK }) => `{"type": ${JSON.stringify(type)}${topK.length ? `, "top_k": ${topK.join(' | ')}` : ''}}`);
  return `one of ${METRIC_NAMES.join(', ')}${ac.length ? ` (or ${ac.join(', ')})` : ''}`;
}

/**
 * One metric entry. `register`: an engine metric whose Accuracy Checker name is not ours (e.g.
 * {"name": "acc", "type": "accuracy"}) makes that name usable in AccuracyAwareQuantization.metrics.
 */
export function metricCheck(register: boolean): Check<MetricConfig> {
  return (v, path, ctx) => {
    const m = readSection<RawMetric>(v, path, ctx, metricFields, metricExtra);
    let byType: MetricName | undefined;
    if (m.type !== undefined) {
      if (isMetricName(m.type)) byType = m.type;
      else if (isAccuracyCheckerType(m.type)) byType = byAccuracyChecker(m.type, m.top_k, path);
      else fail(`${path}.type`, `unknown metric type ${JSON.stringify(m.type)}`, metricExpected());
    }
    let byName: MetricName | undefined;
    if (m.name !== undefined) {
      if (isMetricName(m.name)) byName = m.name;
      else if (ctx.metricAliases.has(m.name)) byName = ctx.metricAliases.get(m.name);
      else if (isAccuracyCheckerType(m.name) && byType === undefined) byName = byAccuracyChecker(m.name, m.top_k, path);
      else if (byType !== undefined) {
        byName = byType;
        if (register) ctx.metricAliases.set(m.name, byType);
      } else {
        const aliases = [...ctx.metricAliases.keys()];
        fail(`${path}.name`, `unknown metric ${JSON.stringify(m.name)}`, metricExpected() + (aliases.length ? `, or ${aliases.join(', ')}` : ''));
      }
    }
    if (byName && byType && byName !== byType) {
      fail(`${path}.type`, `type means ${byType} but name ${JSON.stringify(m.name)} means ${byName}`, 'a name and type that agree');
    }
    const name = byName ?? byType ?? fail(`${path}.name`, 'missing metric name', metricExpected());
    if (m.top_k !== undefined && metricDefinition(name).accuracyChecker?.top_k !== m.top_k) {
      fail(`${path}.top_k`, `top_k ${m.top_k} does not agree with ${name}`, `top_k matching the metric`);
    }
    const out: MetricConfig = { name };
    if (m.type !== undefined) out.type = name;
    if (m.baseline_value !== undefined) out.baseline_value = m.baseline_value;
    return out;
  };
}

/** A metric list without repeats. */
export function metricList(register: boolean): Check<MetricConfig[]> {
  const list = listOf(metricCheck(register), true);
  return (v, path, ctx) => {
    const ms = list(v, path, ctx);
    ms.forEach((m, i) => {
      if (ms.findIndex((x) => x.name === m.name) < i) fail(`${path}[${i}]`, `metric ${m.name} is listed twice`, 'each metric once');
    });
    return ms;
  };
}

// ---------------------------------------------------------------------------------------------
// engine.dataset (Accuracy Checker's dataset vocabulary, inline)

const geometric = ['size', 'dst_height', 'dst_width'] as const;
const stats = ['mean', 'std'] as const;

const stepFields: Fields<PreprocessingStep> = {
  type: oneOf(['resize', 'crop', 'normalization']),
  size: int(1),
  dst_height: int(1),
  dst_width: int(1),
  mean: numbers(num()),
  std: numbers(num({ gt: 0 })),
};
const stepExtra: Extra = {
  interpolation: 'Accuracy Checker resize option; ignored (bilinear is used)',
  aspect_ratio_scale: 'Accuracy Checker resize option; ignored (the image is resized to the given size)',
  use_pillow: 'Accuracy Checker option; ignored',
  images_only: 'Accuracy Checker option; ignored',
};

const stepCheck = section<PreprocessingStep>(stepFields, stepExtra, (s, path) => {
  const type = s.type ?? fail(`${path}.type`, 'missing step type', 'one of "resize", "crop", "normalization"');
  const has = (k: keyof PreprocessingStep) => s[k] !== undefined;
  const wrong = type === 'normalization' ? geometric : stats;
  for (const k of wrong) if (has(k)) fail(`${path}.${k}`, `not a parameter of a "${type}" step`);
  if (type === 'normalization') {
    if (!has('mean') && !has('std')) fail(path, 'a normalization step needs mean and/or std', '"mean" and/or "std"');
  } else if (has('size') ? has('dst_height') || has('dst_width') : !(has('dst_height') && has('dst_width'))) {
    fail(path, `a "${type}" step needs either size or both dst_height and dst_width`, '"size", or "dst_height" and "dst_width"');
  }
  return { ...s, type } as PreprocessingStep;
});

/** engine.dataset, or one entry of Accuracy Checker's engine.datasets (which also holds metrics). */
export type RawDataset = Partial<DatasetConfig> & { metrics?: MetricConfig[] };

const datasetFields: Fields<DatasetConfig & { metrics: MetricConfig[] }> = {
  data_source: str,
  labels: str,
  color: oneOf(['rgb', 'bgr', 'gray']),
  layout: oneOf(['NCHW', 'NHWC']),
  preprocessing: listOf(stepCheck),
  metrics: metricList(true),
};
const datasetExtra: Extra = {
  name: 'Accuracy Checker dataset name; ignored',
  annotation: 'Accuracy Checker annotation file; ignored (labels come from the folder names or "labels")',
  annotation_conversion: 'Accuracy Checker annotation converter; not run (use "labels")',
  dataset_meta: 'Accuracy Checker option; ignored',
  reader: 'Accuracy Checker reader; ignored (images are decoded by AAQ Studio)',
  postprocessing: 'Accuracy Checker postprocessing; not supported, ignored',
  subsample_size: 'Accuracy Checker option; ignored (use stat_subset_size / ranking_subset_size)',
  shuffle: 'Accuracy Checker option; ignored',
};

export const datasetCheck: Check<RawDataset> = (v, p, c) => readSection<RawDataset>(v, p, c, datasetFields, datasetExtra);

export interface RawEngine {
  type: 'accuracy_checker' | 'simplified';
  config: string;
  data_source: string;
  dataset: RawDataset;
  datasets: RawDataset[];
  metrics: MetricConfig[];
}

export const engineFields: Fields<RawEngine> = {
  type: oneOf(['accuracy_checker', 'simplified']),
  config: str,
  data_source: str,
  dataset: datasetCheck,
  datasets: listOf(datasetCheck, true),
  metrics: metricList(true),
};
export const engineExtra: Extra = {
  stat_requests_number: NOT_IMPLEMENTED,
  eval_requests_number: NOT_IMPLEMENTED,
  name: 'Accuracy Checker model name; ignored (model.model_name is used)',
  launchers: 'Accuracy Checker launchers; ignored (the ONNX model runs in onnxruntime)',
  stat_batch_size: NOT_IMPLEMENTED,
  eval_batch_size: NOT_IMPLEMENTED,
};

// ---------------------------------------------------------------------------------------------
// Algorithm parameters

const sideCheck = section<RangeEstimatorSide>(
  {
    type: oneOf(['min', 'max', 'abs_max', 'quantile', 'abs_quantile']),
    aggregator: oneOf(['mean', 'max', 'min', 'median', 'mean_no_outliers', 'median_no_outliers', 'hl_estimator']),
    outlier_prob: num({ min: 0, lt: 1 }),
    clipping_value: num(),
  },
  {},
  (s) => s,
);

const rangeEstimatorCheck = section<RangeEstimatorConfig>({ preset: oneOf(['default', 'quantile']), min: sideCheck, max: sideCheck }, {}, (s) => s);

const bits8: Check<number> = (v, p, c) => {
  const b = int(1, 32)(v, p, c);
  return b === 8 ? b : fail(p, `${b}-bit quantization is not supported`, '8');
};

const overrideCheck = section<QuantizerOverride>(
  {
    mode: oneOf(['symmetric', 'asymmetric']),
    granularity: oneOf(['pertensor', 'perchannel']),
    bits: bits8,
    range_estimator: rangeEstimatorCheck,
  },
  {
    level_low: 'custom quantization levels are not supported; ignored (8-bit levels are used)',
    level_high: 'custom quantization levels are not supported; ignored (8-bit levels are used)',
  },
  (s) => s,
);

const ignoredOpCheck = section<IgnoredScope['operations'][number]>({ type: nonEmptyStr, attributes: objectCheck }, {}, (s, p) => ({
  ...s,
  type: s.type ?? fail(`${p}.type`, 'missing op type', 'an op type such as "Conv" or "Convolution"'),
}));

const ignoredCheck = section<IgnoredScope>({ scope: listOf(str), operations: listOf(ignoredOpCheck), skip_model: bool }, {}, (s) => ({
  ...s,
  scope: s.scope ?? [],
  operations: s.operations ?? [],
}));

/** POT's "None" (as written in its spec files) or null means: no special model type. */
export const modelTypeCheck: Check<'transformer' | null> = (v, p, c) => (v === null || v === 'None' || v === 'none' ? null : oneOf(['transformer'])(v, p, c));

/** POT sets `performance` when the preset is empty. */
const presetCheck: Check<Preset> = (v, p, c) => (v === '' ? 'performance' : oneOf(PRESETS)(v, p, c));

export const targetDeviceCheck = oneOf(TARGET_DEVICES);

export const dqFields: Fields<DefaultQuantizationParams> = {
  preset: presetCheck,
  stat_subset_size: int(1),
  target_device: targetDeviceCheck,
  ignored: ignoredCheck,
  model_type: modelTypeCheck,
  range_estimator: rangeEstimatorCheck,
  activations: overrideCheck,
  weights: overrideCheck,
  use_fast_bias: bool,
  bias_correction: bool,
  shuffle_data: bool,
  seed: int(0),
  inplace_statistics: bool,
};

export const aaqFields: Fields<AccuracyAwareParams> = {
  ...dqFields,
  ranking_subset_size: nullable(int(1)),
  max_iter_num: nullable(int(1)),
  maximal_drop: num({ min: 0 }),
  drop_type: oneOf(['absolute', 'relative']),
  use_prev_if_drop_increase: bool,
  base_algorithm: oneOf(['DefaultQuantization']),
  convert_to_mixed_preset: bool,
  metrics: nullable(metricList(false)),
  metric_subset_ratio: num({ gt: 0, max: 1 }),
  tune_hyperparams: bool,
  annotation_free: bool,
  return_best: bool,
  exclude_rolled_back: bool,
  reuse_evaluations: bool,
  early_stop: bool,
  lazy_ranking: bool,
  prefix_cache: bool,
  revert_mode: oneOf(['FP32', 'INT8_WEIGHTS']),
};

/** Parameters POT knows (either algorithm) that we do not implement. */
const POT_ONLY: Extra = {
  use_layerwise_tuning: `${NOT_IMPLEMENTED} (layer-wise fine-tuning needs PyTorch)`,
  saturation_fix: `${NOT_IMPLEMENTED} (no weight rescaling is applied)`,
  dump_intermediate_model: NOT_IMPLEMENTED,
  activation_channel_alignment: NOT_IMPLEMENTED,
  apply_for_all_nodes: NOT_IMPLEMENTED,
  threshold: NOT_IMPLEMENTED,
  num_samples_for_tuning: NOT_IMPLEMENTED,
  tuning_scope: NOT_IMPLEMENTED,
  outlier_prob_choices: NOT_IMPLEMENTED,
  annotation_conf_threshold: `${NOT_IMPLEMENTED} (annotation_free compares against the FP32 model's top-1)`,
  stat_batch_size: NOT_IMPLEMENTED,
};

export const aaqExtra: Extra = POT_ONLY;

/** With DefaultQuantization, AAQ-only parameters are ignored as POT ignores them (with a note). */
export const dqExtra: Extra = {
  ...POT_ONLY,
  ...Object.fromEntries(
    Object.keys(aaqFields)
      .filter((k) => !(k in dqFields))
      .map((k) => [k, 'AccuracyAwareQuantization parameter; ignored by DefaultQuantization']),
  ),
};

export interface RawCompression {
  target_device: (typeof TARGET_DEVICES)[number];
  model_type: 'transformer' | null;
  inplace_statistics: boolean;
  algorithms: unknown[];
}

export const compressionExtra: Extra = {
  dump_intermediate_model: NOT_IMPLEMENTED,
  inplase_statistics: 'misspelling of inplace_statistics found in POT spec files; ignored',
};
