// Reading classifier outputs: the shape of a score tensor, the top-1 class, top-k membership and
// class labels. Shared by the classification metrics (accuracy-topk.ts, agreement-top1.ts).

import { QuantizeError } from '../types';
import type { SampleOutput } from './definition';

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

/** The scores of one sample's output ([1, C], [1, C, 1, 1] or [C]) and its number of classes. */
export function sampleScores(out: SampleOutput): { logits: ArrayLike<number>; classes: number } {
  const classes = out.dims.length >= 2 ? classifierShape(out.dims, out.name).classes : out.data.length;
  checkSize(out.data, 1, classes);
  return { logits: out.data, classes };
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

/** A sample's label as a class index of a `classes`-class output (the sample is labelled). */
export function classLabel(label: number, classes: number): number {
  if (!Number.isInteger(label) || label < 0 || label >= classes) {
    throw new QuantizeError(`label ${label} is out of range for a model output of ${classes} classes`, {
      expected: `labels in 0..${classes - 1}`,
    });
  }
  return label;
}

export function checkSize(logits: ArrayLike<number>, batch: number, classes: number): void {
  if (logits.length !== batch * classes) {
    throw new QuantizeError(`output has ${logits.length} values, not batch ${batch} × ${classes} classes`);
  }
}
