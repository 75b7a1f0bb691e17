// agreement@top1: 1 when the sample's top-1 class is the FP32 model's top-1 class for it, else 0;
// the dataset value is the mean. Needs no labels (the FP32 model is the reference), so it is the
// metric for unlabelled data.

import { sampleScores, top1 } from './classifier';
import { defineMetric, type SampleOutput } from './definition';

const top1Of = (out: SampleOutput): number => {
  const { logits, classes } = sampleScores(out);
  return top1(logits, 1, classes)[0];
};

export const agreementTop1 = defineMetric<number, number>({
  name: 'agreement@top1',
  direction: 'higher-better',
  needsLabels: false,
  needsFp32Reference: true,
  reference: { of: top1Of, what: "the FP32 model's top-1 predictions" },
  help: "the top-1 class is the FP32 model's top-1 class (no labels needed)",
  sample: ({ output, reference }) => (top1Of(output) === reference ? 1 : 0),
  reduce: 'mean',
  bounds: [0, 1],
});
