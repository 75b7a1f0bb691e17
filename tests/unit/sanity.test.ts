// The run's sanity checks (src/core/run/sanity.ts) on hand-made inputs: chance level, collapsed
// predictions, too few samples for maximal_drop, raw-pixel inputs; and how the report says so.
import { describe, expect, it } from 'vitest';
import { inputRangeFinding, resultSanity, type ResultSanityInput } from '../../src/core/run/sanity';
import { outcomeText, type RunReport } from '../../src/core/report';
import { buildModel } from './helpers/build-model';

const A = 'accuracy@top1';

/** n samples, labels alternating over `classes` classes unless given. */
function input(o: Partial<ResultSanityInput> & { n: number; labels?: number[] }): ResultSanityInput {
  const labels = o.labels ?? Array.from({ length: o.n }, (_, i) => i % 2);
  return {
    dataset: { size: o.n, sampleShape: [3, 48, 192], hasLabels: true, kind: 'images', label: (i) => labels[i] },
    datasetConfig: { preprocessing: [{ type: 'normalization', mean: 127.5, std: 127.5 }], color: 'bgr' },
    declaredShape: [3, 48, 192],
    classes: 2,
    baseline: { [A]: 0.95 },
    ...o,
  };
}

const checks = (r: ReturnType<typeof resultSanity>) => r.findings.map((f) => f.check);

describe('sanity checks', () => {
  it('a good FP32 metric on enough samples finds nothing', () => {
    const r = resultSanity(input({ n: 200, thresholds: { [A]: 0.01 } }));
    expect(r).toEqual({ reliable: true, findings: [] });
  });

  it('chance level: within 3 standard errors of 1/classes is flagged, clearly above is not', () => {
    // n = 100, 2 classes: chance 0.5, limit 0.5 + 3 × 0.05 = 0.65
    expect(checks(resultSanity(input({ n: 100, baseline: { [A]: 0.64 } })))).toEqual(['chance']);
    expect(checks(resultSanity(input({ n: 100, baseline: { [A]: 0.66 } })))).toEqual([]);
    const r = resultSanity(input({ n: 100, baseline: { [A]: 0.5 } }));
    expect(r.reliable).toBe(false);
    expect(r.findings[0].message).toContain('50.00 % on 100 samples, no better than chance (50.00 % for 2 classes');
  });

  it('chance counts the labels: always guessing the most common label is no better', () => {
    const labels = Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
    expect(checks(resultSanity(input({ n: 100, labels, baseline: { [A]: 0.9 } })))).toEqual(['chance']);
  });

  it('a baseline given in the config (not measured) is not judged', () => {
    expect(checks(resultSanity(input({ n: 100, baseline: { [A]: 0.5 }, givenBaselines: [A] })))).toEqual([]);
  });

  it('collapsed predictions: alone, and folded into a chance finding', () => {
    const all1 = new Map(Array.from({ length: 100 }, (_, i) => [i, 1] as [number, number]));
    const alone = resultSanity(input({ n: 100, fp32Top1: all1 }));
    expect(checks(alone)).toEqual(['collapsed']);
    expect(alone.findings[0].message).toContain('predicts class 1 for 100 of 100 samples');
    const both = resultSanity(input({ n: 100, baseline: { [A]: 0.5 }, fp32Top1: all1 }));
    expect(checks(both)).toEqual(['chance']);
    expect(both.findings[0].message).toContain('collapsed onto class 1');
    const varied = new Map(Array.from({ length: 100 }, (_, i) => [i, i % 2] as [number, number]));
    expect(checks(resultSanity(input({ n: 100, fp32Top1: varied })))).toEqual([]);
  });

  it('too few samples: one sample worth more than the allowed drop (float noise tolerated)', () => {
    const few = resultSanity(input({ n: 40, thresholds: { [A]: 0.01 } }));
    expect(checks(few)).toEqual(['too-few-samples']);
    expect(few.findings[0].message).toContain('one sample is worth 2.50 pp of the metric on 40 samples, more than the allowed drop of 1.00 pp');
    expect(few.findings[0].suggestion).toContain('at least 100 samples');
    // 100 samples: one sample is exactly the allowed 0.01
    expect(checks(resultSanity(input({ n: 100, thresholds: { [A]: 0.01 } })))).toEqual([]);
  });

  it('names a dynamic input size fed images at their own size among the likely causes', () => {
    const r = resultSanity(input({ n: 40, declaredShape: [3, -1, -1], dataset: { ...input({ n: 40 }).dataset, sampleShape: [3, 32, 32] }, baseline: { [A]: 0.4 } }));
    expect(r.findings[0].cause).toContain('its input size is dynamic, [3, ?, ?], so they go in at their own 3×32×32: add a resize step');
  });

  it('raw pixel inputs are flagged unless the model scales its input itself', () => {
    const conv = buildModel({
      inputs: { x: [1, 3, 4, 4] },
      outputs: { y: [1, 2, 4, 4] },
      nodes: [{ op: 'Conv', name: 'c', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: { w: [2, 3, 1, 1] },
    });
    const sub = buildModel({
      inputs: { x: [1, 3, 4, 4] },
      outputs: { y: [1, 2, 4, 4] },
      nodes: [
        { op: 'Sub', name: 's', inputs: ['x', 'm'], outputs: ['t'] },
        { op: 'Conv', name: 'c', inputs: ['t', 'w'], outputs: ['y'] },
      ],
      initializers: { m: [1], w: [2, 3, 1, 1] },
    });
    const raw = { min: 4, max: 255, samples: 8 };
    const f = inputRangeFinding(raw, conv, { preprocessing: [] });
    expect(f?.message).toContain('span [4, 255]');
    expect(f?.cause).toBe('engine.dataset.preprocessing has no normalization step');
    expect(inputRangeFinding(raw, sub, { preprocessing: [] })).toBeUndefined();
    expect(inputRangeFinding({ min: -2.1, max: 2.6, samples: 8 }, conv, { preprocessing: [] })).toBeUndefined();
    expect(inputRangeFinding({ min: -124, max: 151, samples: 8 }, conv, { preprocessing: [] })).toBeUndefined(); // mean-subtracted (Caffe style)
  });

  it('the outcome is not a plain "met" when a finding makes the metrics unreliable', () => {
    const report = (sanity: RunReport['sanity']) => ({ aaq: { status: 'met' }, sanity }) as unknown as RunReport;
    expect(outcomeText(report({ reliable: true, findings: [] }))).toBe('met');
    const bad = resultSanity(input({ n: 100, baseline: { [A]: 0.5 } }));
    expect(outcomeText(report(bad))).toMatch(/^met — unreliable: FP32 accuracy@top1 is 50\.00 %/);
    const warnOnly = {
      reliable: true,
      findings: [
        inputRangeFinding(
          { min: 0, max: 255, samples: 1 },
          buildModel({ inputs: { x: [1, 1] }, outputs: { y: [1, 1] }, nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }] }),
          { preprocessing: [] },
        )!,
      ],
    };
    expect(outcomeText(report(warnOnly))).toMatch(/^met — with a warning: the preprocessed inputs span \[0, 255\]/);
  });
});
