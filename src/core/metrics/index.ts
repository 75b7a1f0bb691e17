// Classification metrics with per-sample values (POT/Accuracy Checker names): accuracy@top1,
// accuracy@top5 (against labels) and agreement@top1 (top-1 equal to the FP32 model's top-1).

import { QuantizeError, type MetricDef, type MetricName } from '../types';

const DEFS: Record<MetricName, MetricDef> = {
  'accuracy@top1': { name: 'accuracy@top1', direction: 'higher-better', needsLabels: true },
  'accuracy@top5': { name: 'accuracy@top5', direction: 'higher-better', needsLabels: true },
  'agreement@top1': { name: 'agreement@top1', direction: 'higher-better', needsLabels: false },
};

export const METRIC_NAMES = Object.keys(DEFS) as MetricName[];

export function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(DEFS, name);
}

export function metricDef(name: string): MetricDef {
  if (!isMetricName(name)) {
    throw new QuantizeError(`unknown metric '${name}'`, { field: 'metrics', expected: METRIC_NAMES.join(', ') });
  }
  return { ...DEFS[name] };
}

/**
 * Batch and class counts of a classifier output: [B, C], or [B, C, 1, 1, …] (trailing ones, as
 * after a 1×1 conv head), which is read as [B, C].
 */
export function classifierShape(dims: readonly number[], output = 'output'): { batch: number; classes: number } {
  if (dims.length >= 2 && dims.slice(2).every((d) => d === 1)) return { batch: dims[0], classes: dims[1] };
  throw new QuantizeError(`output '${output}' has shape [${dims.join(', ')}]`, {
    expected: 'classifier scores shaped [batch, classes] (or [batch, classes, 1, 1])',
  });
}

/** Index of the largest score per row (the first on ties, like numpy.argmax). */
export function top1(logits: ArrayLike<number>, batch: number, classes: number): Int32Array {
  checkSize(logits, batch, classes);
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const o = b * classes;
    let best = 0;
    let bv = logits[o];
    for (let c = 1; c < classes; c++) {
      const v = logits[o + c];
      if (v > bv || (bv !== bv && v === v)) {
        bv = v;
        best = c;
      }
    }
    out[b] = best;
  }
  return out;
}

/** Whether `label` is among the k highest scores of the row (ties broken by lower index first). */
export function inTopK(logits: ArrayLike<number>, row: number, classes: number, label: number, k: number): boolean {
  const o = row * classes;
  const v = logits[o + label];
  let ahead = 0;
  for (let c = 0; c < classes; c++) {
    const x = logits[o + c];
    if (x > v || (x === v && c < label) || (v !== v && c < label)) {
      if (++ahead >= k) return false;
    }
  }
  return true;
}

/**
 * Per-sample values (1 or 0) of a metric over a batch of scores [B, C].
 * `labels` are class indices (-1 = unlabelled); `fp32Top1` the FP32 model's top-1 for agreement.
 */
export function perSampleMetric(
  name: MetricName,
  logits: ArrayLike<number>,
  numClasses: number,
  labels: ArrayLike<number>,
  fp32Top1?: ArrayLike<number>,
): number[] {
  const def = metricDef(name);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new QuantizeError(`invalid number of classes ${numClasses}`);
  const batch = Math.floor(logits.length / numClasses);
  checkSize(logits, batch, numClasses);
  const out = new Array<number>(batch);
  if (name === 'agreement@top1') {
    if (!fp32Top1) throw new QuantizeError('agreement@top1 needs the FP32 model\'s top-1 predictions');
    if (fp32Top1.length !== batch) throw new QuantizeError(`${fp32Top1.length} FP32 predictions for a batch of ${batch}`);
    const t = top1(logits, batch, numClasses);
    for (let b = 0; b < batch; b++) out[b] = t[b] === fp32Top1[b] ? 1 : 0;
    return out;
  }
  if (def.needsLabels && labels.length !== batch) {
    throw new QuantizeError(`${labels.length} labels for a batch of ${batch} outputs`);
  }
  for (let b = 0; b < batch; b++) checkLabel(labels[b], numClasses, name);
  if (name === 'accuracy@top1') {
    const t = top1(logits, batch, numClasses);
    for (let b = 0; b < batch; b++) out[b] = t[b] === labels[b] ? 1 : 0;
  } else {
    const k = Math.min(5, numClasses);
    for (let b = 0; b < batch; b++) out[b] = inTopK(logits, b, numClasses, labels[b], k) ? 1 : 0;
  }
  return out;
}

/** The dataset-level value: the mean of per-sample values (NaN when there are none). */
export function aggregate(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

function checkLabel(label: number, classes: number, metric: string): void {
  if (label === -1) {
    throw new QuantizeError(`${metric} needs labels but the dataset has none`, { expected: 'a labels file, class subfolders, or agreement@top1' });
  }
  if (!Number.isInteger(label) || label < 0 || label >= classes) {
    throw new QuantizeError(`label ${label} is out of range for a model output of ${classes} classes`, {
      expected: `labels in 0..${classes - 1}`,
    });
  }
}

function checkSize(logits: ArrayLike<number>, batch: number, classes: number): void {
  if (logits.length !== batch * classes) {
    throw new QuantizeError(`output has ${logits.length} values, not batch ${batch} × ${classes} classes`);
  }
}
