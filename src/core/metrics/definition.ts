// What a metric declares to be registered (registry.ts): its name and direction, what it needs
// (labels, the FP32 model's output), how one sample's output becomes a per-sample value, how the
// per-sample values become the dataset value, and which per-sample bounds the AAQ work savings
// (reuse_evaluations, early_stop, lazy_ranking) may rely on.

export type Direction = 'higher-better' | 'lower-better';

/** One sample's model output, as an evaluation gives it. */
export interface SampleOutput {
  /** The output tensor of one sample (a classifier: [1, C], [1, C, 1, 1] or [C]). */
  data: ArrayLike<number>;
  dims: readonly number[];
  /** The output's name, for messages. */
  name: string;
}

/** What a metric sees of one sample. */
export interface MetricSample<R> {
  output: SampleOutput;
  /** The sample's class index; -1 when unlabelled (never for a metric that needs labels: the
   *  registry refuses the sample first). */
  label: number;
  /** The FP32 model's reference for this sample (`reference.of` of its FP32 output) when the
   *  metric needs one; when the FP32 model itself is evaluated, its own. Undefined otherwise. */
  reference: R;
}

/**
 * A metric. `R` is what it keeps of the FP32 model's output per sample (needsFp32Reference), `S`
 * what it computes per sample: a number for a metric whose per-sample value is all it needs (the
 * built-ins), or richer statistics (e.g. per-class intersections and unions) with `value` giving
 * the per-sample number AAQ ranks samples by and `reduce` the dataset value.
 */
export interface MetricDefinition<R = any, S = any> {
  /** The config name (Accuracy Checker style, e.g. "accuracy@top1"). */
  readonly name: string;
  readonly direction: Direction;
  /** Needs the samples' labels (a dataset without labels is refused for it). */
  readonly needsLabels: boolean;
  /** Compares with the FP32 model's output: `reference` says what is kept of it per sample. */
  readonly needsFp32Reference: boolean;
  readonly reference?: {
    of(output: SampleOutput): R;
    /** What the reference is, for messages ("the FP32 model's top-1 predictions"). */
    readonly what: string;
  };
  /** One line for the studio form. */
  readonly help: string;
  /** The Accuracy Checker spelling {"type", "top_k"} that also means this metric in a config. */
  readonly accuracyChecker?: { readonly type: string; readonly top_k?: number };
  /** One sample's statistics (its per-sample value when S is a number). */
  sample(s: MetricSample<R>): S;
  /** The per-sample value of the statistics; needed when S is not the value itself. */
  value?(stat: S): number;
  /** The dataset value: 'mean' (left-to-right mean of the per-sample values, NaN for none), or a
   *  function of the per-sample statistics in index order (e.g. a ratio of sums). */
  readonly reduce: 'mean' | ((stats: readonly S[]) => number);
  /**
   * [lo, hi] that every per-sample value lies in, promised for the AAQ work savings; null when the
   * metric cannot promise bounds. Only a 'mean' metric's bounds are used (the savings compute
   * bounds of a mean); any other reduction turns the savings off as null does.
   */
  readonly bounds: readonly [number, number] | null;
}

/** Typed identity, for a metric file's `export const … = defineMetric({ … })`. */
export function defineMetric<R = undefined, S = number>(def: MetricDefinition<R, S>): MetricDefinition<R, S> {
  return def;
}
