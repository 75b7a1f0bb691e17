// Every DefaultQuantization and AccuracyAwareQuantization parameter the form shows: POT's name,
// its default and a one-line explanation (people use this screen to learn POT).

import { defaultAaqParams } from '../../../src/core/config/defaults';
import { labelFreeMetricNames, metricDefinitions } from '../../../src/core/metrics/registry';

/** One metric checkbox of the form (engine.metrics). */
export interface MetricOption {
  name: string;
  /** What it measures (the registry's one line). */
  help: string;
  /** Shown beside the box: needs no labels, compares with the FP32 model. */
  note?: string;
}

/** The metrics the form offers: the registry's, in its order (src/core/metrics/registry.ts). */
export function metricOptions(): MetricOption[] {
  return metricDefinitions().map((d) => ({
    name: d.name,
    help: d.help,
    ...(d.needsLabels ? {} : { note: `${d.name} needs no labels${d.needsFp32Reference ? ": it compares with the FP32 model's answers" : ''}.` }),
  }));
}

const labelFree = labelFreeMetricNames();

export type FieldKind = 'number' | 'int' | 'nullable-int' | 'bool' | 'select' | 'list';

export interface ParamField {
  /** Path inside `params` ('maximal_drop', 'activations.mode', 'ignored.scope'). */
  key: string;
  kind: FieldKind;
  help: string;
  /** For selects; '' means "not set" (the preset or POT decides). */
  options?: readonly string[];
  min?: number;
  max?: number;
  step?: number;
  /** Shown instead of the computed default (e.g. "from preset"). */
  defaultText?: string;
  /** Shown for null in nullable fields. */
  nullText?: string;
}

export interface ParamSection {
  id: string;
  title: string;
  blurb: string;
  aaqOnly?: boolean;
  advanced?: boolean;
  fields: ParamField[];
}

const ESTIMATOR_TYPES = ['', 'min', 'max', 'abs_max', 'quantile', 'abs_quantile'] as const;
const AGGREGATORS = ['', 'mean', 'max', 'min', 'median', 'mean_no_outliers', 'median_no_outliers', 'hl_estimator'] as const;

function overrideFields(kind: 'activations' | 'weights'): ParamField[] {
  const what = kind === 'activations' ? 'activation' : 'weight';
  return [
    {
      key: `${kind}.mode`,
      kind: 'select',
      options: ['', 'symmetric', 'asymmetric'],
      defaultText: 'from preset',
      help: `Force symmetric or asymmetric ${what} quantizers, whatever the preset says.`,
    },
    {
      key: `${kind}.granularity`,
      kind: 'select',
      options: ['', 'pertensor', 'perchannel'],
      defaultText: kind === 'weights' ? 'perchannel' : 'pertensor',
      help: `One scale for the whole tensor, or one per channel${kind === 'weights' ? ' (output channel of the weights)' : ''}.`,
    },
    {
      key: `${kind}.range_estimator.preset`,
      kind: 'select',
      options: ['', 'default', 'quantile'],
      defaultText: 'default',
      help: `Range estimator for ${what}s only (overrides the one above).`,
    },
    { key: `${kind}.range_estimator.max.type`, kind: 'select', options: ESTIMATOR_TYPES, defaultText: 'from preset', help: `Statistic for the upper end of each ${what} range.` },
    {
      key: `${kind}.range_estimator.max.aggregator`,
      kind: 'select',
      options: AGGREGATORS,
      defaultText: 'from preset',
      help: 'How per-sample statistics are combined into one range.',
    },
    {
      key: `${kind}.range_estimator.max.outlier_prob`,
      kind: 'number',
      min: 0,
      max: 0.999,
      step: 0.0001,
      defaultText: 'unset',
      help: 'Share of extreme values ignored by the quantile statistics.',
    },
  ];
}

/** Shown first on the Configure screen (with the metric and the engine); the rest is under "Advanced". */
export const ESSENTIAL_KEYS: readonly string[] = ['maximal_drop', 'drop_type'];

export const SECTIONS: ParamSection[] = [
  {
    id: 'aaq',
    title: 'Accuracy-aware search',
    blurb: 'AccuracyAwareQuantization quantizes everything, then puts back to FP32 the layers that hurt the metric most, one group at a time, until the drop is small enough.',
    aaqOnly: true,
    fields: [
      { key: 'maximal_drop', kind: 'number', min: 0, max: 1, step: 0.001, help: 'Largest metric drop you accept compared with FP32 (0.01 = one percentage point when absolute).' },
      { key: 'drop_type', kind: 'select', options: ['absolute', 'relative'], help: 'absolute: FP32 − INT8; relative: (FP32 − INT8) / FP32.' },
      {
        key: 'ranking_subset_size',
        kind: 'nullable-int',
        min: 1,
        nullText: 'min(N, 300)',
        help: 'Samples used to rank layers: those INT8 hurts most. Smaller is faster, noisier.',
      },
      { key: 'max_iter_num', kind: 'nullable-int', min: 1, nullText: 'no limit', help: 'Most revert iterations before giving up.' },
      { key: 'use_prev_if_drop_increase', kind: 'bool', help: 'Undo a revert that made the drop worse and re-rank.' },
      { key: 'convert_to_mixed_preset', kind: 'bool', help: 'First try the mixed preset (asymmetric activations) when the drop is too large.' },
      { key: 'tune_hyperparams', kind: 'bool', help: 'Before reverting, try other range estimators on the hardest samples (slower).' },
      {
        key: 'metric_subset_ratio',
        kind: 'number',
        min: 0.01,
        max: 1,
        step: 0.05,
        help: 'Share of samples kept for per-sample comparison when baseline values are given in metrics.',
      },
      {
        key: 'annotation_free',
        kind: 'bool',
        help: `POT option for unlabelled data; here pick ${labelFree.length ? `the ${labelFree.join(' or ')} metric` : 'labelled data'} instead.`,
      },
      { key: 'base_algorithm', kind: 'select', options: ['DefaultQuantization'], help: 'The quantization the search starts from (POT only has this one).' },
      { key: 'return_best', kind: 'bool', help: 'Fix of a POT flaw: return the best model seen, not the last one tried.' },
      { key: 'exclude_rolled_back', kind: 'bool', help: 'Fix of a POT flaw: never rank again a group whose revert was undone.' },
    ],
  },
  {
    id: 'savings',
    title: "Work savings (exact; off = POT's schedule)",
    blurb:
      "Ways to evaluate less for the same decisions: none changes which groups are reverted or the final metrics, only the cost. Turn one off to get POT's evaluation schedule back.",
    aaqOnly: true,
    fields: [
      {
        key: 'reuse_evaluations',
        kind: 'bool',
        help: "Reuse per-sample values already computed for the same model: a ranking candidate's serve the iteration that reverts it, a rolled-back model's serve the re-ranking.",
      },
      {
        key: 'early_stop',
        kind: 'bool',
        help: "Stop an iteration's pass over the data once the decision is certain whatever the remaining samples give (finished later only if an exact value is needed).",
      },
      {
        key: 'lazy_ranking',
        kind: 'bool',
        help: 'Rank with upper bounds: score each group on the ranking samples that can still improve, and finish its score only when it reaches the top of the list.',
      },
      {
        key: 'prefix_cache',
        kind: 'bool',
        help: "Cache the network's unchanged prefix while ranking: a candidate's samples resume from cached activations just before its reverted group (bit-exact).",
      },
      {
        key: 'revert_mode',
        kind: 'select',
        options: ['FP32', 'INT8_WEIGHTS'],
        help: 'What reverting a group means: FP32 (POT: weights and activations back to FP32) or INT8_WEIGHTS (activations back to FP32, weights stay INT8: a smaller file).',
      },
    ],
  },
  {
    id: 'dq',
    title: 'Default quantization',
    blurb: 'DefaultQuantization places quantizers by the hardware rules, measures activation ranges on a few samples and corrects biases.',
    fields: [
      {
        key: 'preset',
        kind: 'select',
        options: ['performance', 'mixed', 'accuracy'],
        help: 'performance: symmetric weights and activations; mixed: asymmetric activations; accuracy: asymmetric both.',
      },
      { key: 'stat_subset_size', kind: 'int', min: 1, help: 'Samples used to measure activation ranges (POT: the whole set; 300 as in NNCF).' },
      {
        key: 'target_device',
        kind: 'select',
        options: ['ANY', 'CPU', 'GPU', 'VPU', 'GNA', 'CPU_SPR', 'ONNXRUNTIME'],
        help: "Hardware whose rules decide where quantizers go: POT's CPU rules for its devices; ONNXRUNTIME places them where onnxruntime runs integer kernels (faster exports).",
      },
      {
        key: 'model_type',
        kind: 'select',
        options: ['', 'transformer'],
        defaultText: 'None',
        help: 'transformer: keep Add, Pow, Sub, ReduceMean… in FP32, as POT does for transformers.',
      },
      { key: 'use_fast_bias', kind: 'bool', help: 'FastBiasCorrection (on) or the slower BiasCorrection (off) of the output shift INT8 causes.' },
      { key: 'bias_correction', kind: 'bool', help: 'Correct biases at all (AAQ Studio extension; POT always does).' },
      { key: 'shuffle_data', kind: 'bool', help: 'Pick the statistics samples at random (with the seed), not the first ones.' },
      { key: 'seed', kind: 'int', min: 0, help: 'Seed of every random choice; recorded in the report.' },
      { key: 'inplace_statistics', kind: 'bool', help: 'POT memory option for statistics collection; no effect here, kept for compatible configs.' },
      { key: 'ignored.scope', kind: 'list', defaultText: 'none', help: 'Node names to keep in FP32, comma separated.' },
      { key: 'ignored.operations', kind: 'list', defaultText: 'none', help: 'Op types to keep in FP32 (ONNX or POT names: Add, MatMul, Convolution…), comma separated.' },
    ],
  },
  {
    id: 'ranges',
    title: 'Ranges and quantizers',
    blurb: 'How activation ranges are estimated, and overrides of the preset per tensor kind.',
    advanced: true,
    fields: [
      {
        key: 'range_estimator.preset',
        kind: 'select',
        options: ['', 'default', 'quantile'],
        defaultText: 'default',
        help: 'default: min/max of the statistics; quantile: cut rare outliers off the ranges.',
      },
      ...overrideFields('activations'),
      ...overrideFields('weights'),
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// Paths into the params object

type Obj = Record<string, unknown>;

export function getPath(obj: Obj, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[k];
  }
  return cur;
}

/** Sets a value; `undefined` removes the key (and empty parent objects it leaves behind, except
 *  the top-level ones POT always has). */
export function setPath(obj: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  const chain: Obj[] = [obj];
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object') {
      if (value === undefined) return;
      cur[k] = {};
    }
    cur = cur[k] as Obj;
    chain.push(cur);
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  for (let i = chain.length - 1; i >= 2; i--) {
    if (Object.keys(chain[i]).length === 0) delete chain[i - 1][keys[i - 1]];
  }
}

const DEFAULTS = defaultAaqParams() as unknown as Obj;

/** POT's default of a parameter, as text. */
export function defaultText(f: ParamField): string {
  if (f.defaultText) return f.defaultText;
  const v = getPath(DEFAULTS, f.key);
  if (v === null) return f.nullText ?? 'null';
  if (Array.isArray(v)) return v.length ? v.join(', ') : 'none';
  return String(v);
}
