// Sanity checks of a run's data, the same for the CLI and the studio: is the FP32 model's metric
// worth optimising (not at chance, predictions not collapsed onto one class), do the inputs look
// preprocessed, and can the asked `maximal_drop` be measured on this many samples? Each finding is
// a warning with its likely cause and a suggestion; a run whose metrics are meaningless ends
// "unreliable" instead of a plain "met" (report.ts `statusText`).
import type { OpenedDataset } from '../data/dataset';
import { GraphIndex } from '../onnx/graph';
import type { ModelProto } from '../onnx/proto';
import { isMetricName, metricDefinition } from '../metrics/registry';
import type { DatasetConfig } from '../config/types';
import { DROP_TOLERANCE } from '../algorithms/drop';

export type SanityCheck = 'chance' | 'collapsed' | 'input-range' | 'too-few-samples';

export interface SanityFinding {
  check: SanityCheck;
  /** What was seen, with numbers. */
  message: string;
  /** The likely cause. */
  cause: string;
  /** What to do about it. */
  suggestion: string;
  /** The metrics cannot tell a good quantization from a bad one (a 'met' is then unreliable). */
  unreliable: boolean;
}

export interface SanityReport {
  /** False when a finding makes the run's metrics meaningless. */
  reliable: boolean;
  findings: SanityFinding[];
}

/** A finding as one warning line. */
export function findingText(f: SanityFinding): string {
  return `${f.message}. Likely cause: ${f.cause}. ${f.suggestion}`;
}

export function sanityReport(findings: SanityFinding[]): SanityReport {
  return { reliable: !findings.some((f) => f.unreliable), findings };
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const pp = (x: number) => `${(x * 100).toFixed(2)} pp`;

/** What the preprocessed inputs span (a few samples spread over the set). */
export interface InputRange {
  min: number;
  max: number;
  samples: number;
}

/** Operators that, first on the input, mean the model scales its input itself. */
const SELF_NORMALIZING = new Set(['Sub', 'Div', 'Mul', 'Add', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization']);

/** Values within this magnitude are what usual preprocessing yields (ImageNet mean/std gives about
 *  [−2.1, 2.6], scaling [0, 1] or [−1, 1]); non-negative values past it look like raw pixels. */
const RAW_PIXEL_MAX = 20;

export async function inputRange(dataset: OpenedDataset, count = 8): Promise<InputRange> {
  const n = Math.min(count, dataset.size);
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < n; k++) {
    const { input } = await dataset.get(Math.floor((k * dataset.size) / n));
    for (let i = 0; i < input.length; i++) {
      const v = input[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min, max, samples: n };
}

/** The inputs look like raw pixel values (non-negative, up to far past 1), and the model does not
 *  start by scaling its input: the config likely lacks a normalization step. */
export function inputRangeFinding(range: InputRange, model: ModelProto, dataset: Pick<DatasetConfig, 'preprocessing'>): SanityFinding | undefined {
  if (!(range.min >= 0 && range.max > RAW_PIXEL_MAX)) return undefined;
  const idx = new GraphIndex(model);
  const first = (idx.consumers.get(idx.inputs[0]) ?? []).map((u) => idx.nodes[u.node]?.opType ?? '');
  if (first.some((op) => SELF_NORMALIZING.has(op))) return undefined;
  const normalized = (dataset.preprocessing ?? []).some((s) => s.type === 'normalization');
  return {
    check: 'input-range',
    message: `the preprocessed inputs span [${fmt(range.min)}, ${fmt(range.max)}] (${range.samples} samples looked at), raw pixel values, while models usually take values near [−1, 1] or [0, 1]`,
    cause: normalized ? 'the normalization step does not scale to the range the model was trained on' : 'engine.dataset.preprocessing has no normalization step',
    suggestion:
      'Add {"type": "normalization", "mean": …, "std": …} with the values the model was trained with (mean 127.5, std 127.5 gives [−1, 1]; std 255 gives [0, 1]); ignore this if the model expects raw pixels',
    unreliable: false,
  };
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(3);
}

export interface ResultSanityInput {
  dataset: Pick<OpenedDataset, 'size' | 'sampleShape' | 'hasLabels' | 'kind' | 'label'>;
  datasetConfig: Pick<DatasetConfig, 'preprocessing' | 'color'>;
  /** The model's declared per-sample input shape (-1 for a dynamic dim). */
  declaredShape: number[];
  /** Classes the model scores (the probe's). */
  classes?: number;
  /** The FP32 metrics; metrics whose baseline was given in the config (not measured) are skipped. */
  baseline: Record<string, number>;
  givenBaselines?: string[];
  /** FP32 top-1 class by sample index, for the samples the run evaluated on FP32. */
  fp32Top1?: ReadonlyMap<number, number>;
  /** The allowed drop per metric (AAQ's thresholds); absent for DefaultQuantization. */
  thresholds?: Record<string, number>;
  /** Findings made before the run (the input range). */
  before?: SanityFinding[];
}

/** Standard errors above chance an FP32 metric must reach to count as better than chance. */
const CHANCE_SE = 3;
/** Share of the predictions in one class from which they count as collapsed. */
const COLLAPSED_SHARE = 0.95;

/** The run's findings: those made before it, and the chance, collapse and sample-count checks. */
export function resultSanity(r: ResultSanityInput): SanityReport {
  const findings = [...(r.before ?? [])];
  const n = r.dataset.size;
  const labels = r.dataset.hasLabels ? labelShares(r.dataset) : undefined;
  const causes = likelyCauses(r, findings);
  for (const [name, value] of Object.entries(r.baseline)) {
    if (r.givenBaselines?.includes(name) || !isMetricName(name) || r.classes === undefined || !labels) continue;
    const ac = metricDefinition(name).accuracyChecker;
    if (ac?.type !== 'accuracy') continue;
    const k = Math.min(ac.top_k ?? 1, r.classes);
    // A guess: k/classes at random, or always the k most common labels.
    const chance = Math.min(
      1,
      Math.max(
        k / r.classes,
        labels.slice(0, k).reduce((a, b) => a + b, 0),
      ),
    );
    const limit = chance + CHANCE_SE * Math.sqrt((chance * (1 - chance)) / Math.max(1, n));
    if (value <= limit) {
      findings.push({
        check: 'chance',
        message: `FP32 ${name} is ${pct(value)} on ${n} samples, no better than chance (${pct(chance)} for ${r.classes} classes${labels[0] > 1 / r.classes ? ' and these labels' : ''}; within ${CHANCE_SE} standard errors): the metric cannot tell a good quantization from a bad one`,
        cause: causes,
        suggestion: 'Check the preview of what the model sees, the preprocessing and the label order, then run again',
        unreliable: true,
      });
    }
  }
  const preds = r.fp32Top1 ? [...r.fp32Top1.values()] : [];
  if (preds.length >= 2) {
    const counts = new Map<number, number>();
    for (const p of preds) counts.set(p, (counts.get(p) ?? 0) + 1);
    const [cls, most] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
    const share = most / preds.length;
    const labelShare = labels?.[0] ?? 0;
    // Unlabelled data may be of one class: only a total collapse on enough samples counts there.
    const collapsed = labels ? share >= COLLAPSED_SHARE && labelShare < COLLAPSED_SHARE : share === 1 && preds.length >= 20;
    const chance = findings.find((f) => f.check === 'chance');
    if (collapsed && chance) chance.message += `; its predictions have collapsed onto class ${cls} (${most} of ${preds.length} samples)`;
    else if (collapsed) {
      findings.push({
        check: 'collapsed',
        message: `the FP32 model predicts class ${cls} for ${most} of ${preds.length} samples (${pct(share)})${labels ? `, while the most common label covers ${pct(labelShare)}` : ''}: its predictions have collapsed onto one class`,
        cause: causes,
        suggestion: 'Check the preview of what the model sees and the preprocessing, then run again',
        unreliable: true,
      });
    }
  }
  if (r.thresholds && n > 0) {
    const one = 1 / n;
    const tight = Object.entries(r.thresholds).filter(([name, t]) => isMetricName(name) && metricDefinition(name).reduce === 'mean' && one > t + DROP_TOLERANCE);
    if (tight.length) {
      const t = Math.min(...tight.map(([, v]) => v));
      findings.push({
        check: 'too-few-samples',
        message: `one sample is worth ${pp(one)} of the metric on ${n} samples, more than the allowed drop of ${pp(t)}: the drop moves in steps of ${pp(one)}, so "met" only says that no sample changed`,
        cause: 'too few validation samples for this maximal_drop',
        suggestion: `Use at least ${Math.ceil(1 / t - DROP_TOLERANCE)} samples (several times more for a stable result), or a larger maximal_drop`,
        unreliable: true,
      });
    }
  }
  return sanityReport(findings);
}

/** Label shares, largest first. */
function labelShares(ds: ResultSanityInput['dataset']): number[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < ds.size; i++) {
    const l = ds.label(i);
    if (l >= 0) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts.values()].sort((a, b) => b - a).map((c) => c / Math.max(1, total));
}

/** The likely causes of meaningless metrics, the most likely first. */
function likelyCauses(r: ResultSanityInput, before: SanityFinding[]): string {
  const out: string[] = [];
  if (before.some((f) => f.check === 'input-range')) out.push('the inputs are not preprocessed as the model expects (they are raw pixel values: no normalization)');
  const spatial = r.declaredShape.slice(-2);
  const resized = (r.datasetConfig.preprocessing ?? []).some((s) => s.type === 'resize' || s.type === 'crop');
  if (r.dataset.kind === 'images' && !resized && spatial.some((d) => d < 0)) {
    out.push(
      `images of a size the model was not trained on (its input size is dynamic, [${r.declaredShape.map((d) => (d < 0 ? '?' : d)).join(', ')}], so they go in at their own ${r.dataset.sampleShape.join('×')}: add a resize step to the size it expects)`,
    );
  }
  out.push('labels in another class order than the model scores (class folders are taken in sorted name order)');
  if (r.datasetConfig.color !== 'gray') out.push(`the wrong color order (engine.dataset.color is ${r.datasetConfig.color ?? 'rgb'})`);
  return out.join('; or ');
}
