// Metrics with per-sample values (POT/Accuracy Checker names), over the registry (registry.ts):
// accuracy@top1, accuracy@top5 (against labels) and agreement@top1 (top-1 equal to the FP32
// model's top-1), each in its own file.

import { QuantizeError } from '../types';
import { checkSize } from './classifier';
import { MetricTally, metricDefinition } from './registry';

export { classifierShape, inTopK, sampleScores, top1 } from './classifier';
export * from './registry';

/**
 * Per-sample values of a metric over a batch of scores [B, C] (a classifier's output).
 * `labels` are class indices (-1 = unlabelled); `references` the metric's FP32 reference of each
 * sample when it needs one (agreement@top1: the FP32 model's top-1).
 */
export function perSampleMetric(name: string, logits: ArrayLike<number>, numClasses: number, labels: ArrayLike<number>, references?: ArrayLike<unknown>): number[] {
  const def = metricDefinition(name);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new QuantizeError(`invalid number of classes ${numClasses}`);
  const batch = Math.floor(logits.length / numClasses);
  checkSize(logits, batch, numClasses);
  if (def.needsFp32Reference) {
    if (!references) throw new QuantizeError(`${name} needs ${def.reference!.what}`);
    if (references.length !== batch) throw new QuantizeError(`${references.length} FP32 references for a batch of ${batch}`);
  }
  if (def.needsLabels && labels.length !== batch) {
    throw new QuantizeError(`${labels.length} labels for a batch of ${batch} outputs`);
  }
  const tally = new MetricTally(def);
  for (let b = 0; b < batch; b++) {
    const data = ArrayBuffer.isView(logits)
      ? (logits as unknown as Float32Array).subarray(b * numClasses, (b + 1) * numClasses)
      : Array.prototype.slice.call(logits, b * numClasses, (b + 1) * numClasses);
    tally.add({ data, dims: [1, numClasses], name: 'output' }, b < labels.length ? labels[b] : -1, references?.[b]);
  }
  return tally.values;
}
