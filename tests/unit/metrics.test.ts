import { describe, expect, it } from 'vitest';
import { aggregate, classifierShape, inTopK, metricDef, METRIC_NAMES, perSampleMetric, top1 } from '../../src/core/metrics';
import { QuantizeError } from '../../src/core/types';

// 3 samples × 6 classes
const logits = Float32Array.from([
  0.1,
  0.9,
  0.3,
  0.2,
  0.0,
  -1, // top1 = 1; order 1,2,3,0,4,5
  5,
  5,
  1,
  2,
  3,
  4, // tie between 0 and 1 → top1 = 0; order 0,1,5,4,3,2
  -3,
  -2,
  -1,
  -4,
  -5,
  -6, // top1 = 2; order 2,1,0,3,4,5
]);

describe('metric definitions', () => {
  it('knows the three metrics', () => {
    expect(METRIC_NAMES).toEqual(['accuracy@top1', 'accuracy@top5', 'agreement@top1']);
    expect(metricDef('accuracy@top1')).toEqual({ name: 'accuracy@top1', direction: 'higher-better', needsLabels: true });
    expect(metricDef('accuracy@top5').needsLabels).toBe(true);
    expect(metricDef('agreement@top1')).toEqual({ name: 'agreement@top1', direction: 'higher-better', needsLabels: false });
    expect(() => metricDef('map')).toThrow(QuantizeError);
    expect(() => metricDef('map')).toThrow(/metrics: unknown metric 'map' \(expected accuracy@top1, accuracy@top5, agreement@top1\)/);
  });
});

describe('per-sample metrics', () => {
  it('top1 takes the first maximum', () => {
    expect(Array.from(top1(logits, 3, 6))).toEqual([1, 0, 2]);
  });

  it('accuracy@top1', () => {
    expect(perSampleMetric('accuracy@top1', logits, 6, Int32Array.from([1, 1, 2]))).toEqual([1, 0, 1]);
  });

  it('accuracy@top5 (ties ranked by lower index first)', () => {
    // sample 0: class 5 is 6th → 0; sample 1: class 2 is 6th → 0, class 3 5th → 1; sample 2: class 4 is 5th → 1
    expect(perSampleMetric('accuracy@top5', logits, 6, Int32Array.from([5, 2, 4]))).toEqual([0, 0, 1]);
    expect(perSampleMetric('accuracy@top5', logits, 6, Int32Array.from([0, 3, 5]))).toEqual([1, 1, 0]);
    expect(inTopK(logits, 1, 6, 1, 1)).toBe(false); // tie with class 0, which comes first
    expect(inTopK(logits, 1, 6, 1, 2)).toBe(true);
  });

  it('top5 with fewer than 5 classes is always right', () => {
    expect(perSampleMetric('accuracy@top5', Float32Array.from([0.1, 0.9]), 2, Int32Array.from([0]))).toEqual([1]);
  });

  it('agreement@top1 compares with the FP32 top-1 and needs no labels', () => {
    const fp32 = Int32Array.from([1, 1, 2]);
    expect(perSampleMetric('agreement@top1', logits, 6, Int32Array.from([-1, -1, -1]), fp32)).toEqual([1, 0, 1]);
    expect(() => perSampleMetric('agreement@top1', logits, 6, new Int32Array(3))).toThrow(/needs the FP32 model's top-1/);
  });

  it('checks labels against the output size', () => {
    expect(() => perSampleMetric('accuracy@top1', logits, 6, Int32Array.from([0, 6, 1]))).toThrow(
      /label 6 is out of range for a model output of 6 classes \(expected labels in 0\.\.5\)/,
    );
    expect(() => perSampleMetric('accuracy@top1', logits, 6, Int32Array.from([0, -1, 1]))).toThrow(/needs labels but the dataset has none/);
    expect(() => perSampleMetric('accuracy@top1', logits, 6, Int32Array.from([0, 1]))).toThrow(/2 labels for a batch of 3/);
    expect(() => perSampleMetric('accuracy@top1', logits, 7, Int32Array.from([0, 1]))).toThrow(/18 values, not batch 2 × 7 classes/);
  });

  it('aggregates by the mean', () => {
    expect(aggregate([1, 0, 1, 1])).toBe(0.75);
    expect(aggregate([])).toBeNaN();
  });

  it('reads [B,C,1,1] outputs as [B,C]', () => {
    expect(classifierShape([4, 10])).toEqual({ batch: 4, classes: 10 });
    expect(classifierShape([4, 10, 1, 1])).toEqual({ batch: 4, classes: 10 });
    expect(() => classifierShape([4, 10, 2, 1], 'logits')).toThrow(/output 'logits' has shape \[4, 10, 2, 1\]/);
    expect(() => classifierShape([10])).toThrow(QuantizeError);
  });
});
