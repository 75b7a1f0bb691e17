// accuracy@topK (Accuracy Checker's {"type": "accuracy", "top_k": K}): 1 when the sample's label
// is among the K highest scores (ties ranked by lower class index first), else 0; the dataset value
// is the mean. Registering another K is one line in registry.ts: accuracyTopK(K).

import { classLabel, inTopK, sampleScores, top1 } from './classifier';
import { defineMetric, type MetricDefinition } from './definition';

export function accuracyTopK(k: number): MetricDefinition<undefined, number> {
  if (!Number.isInteger(k) || k < 1) throw new Error(`accuracy@top${k}: k must be an integer ≥ 1`);
  return defineMetric<undefined, number>({
    name: `accuracy@top${k}`,
    direction: 'higher-better',
    needsLabels: true,
    needsFp32Reference: false,
    help: k === 1 ? 'the top-1 class is the label' : `the label is among the ${k} highest scores`,
    accuracyChecker: { type: 'accuracy', top_k: k },
    sample({ output, label }) {
      const { logits, classes } = sampleScores(output);
      const y = classLabel(label, classes);
      // top-1 as numpy.argmax (the first maximum); with fewer than K classes every label is in.
      if (k === 1) return top1(logits, 1, classes)[0] === y ? 1 : 0;
      return inTopK(logits, 0, classes, y, Math.min(k, classes)) ? 1 : 0;
    },
    reduce: 'mean',
    bounds: [0, 1],
  });
}
