import { describe, expect, it } from 'vitest';
import { TensorStatsCollector } from '../../src/core/quant/statistics';
import {
  activationEstimator,
  aggregateEstimator,
  clippingOptions,
  aggregateMatrix,
  hodgesLehmann,
  medianSorted,
  noOutliers,
  quantileSorted,
  sampleStatFor,
  sampleStatsFor,
  weightEstimator,
} from '../../src/core/quant/estimators';
import { symmetricActivationParams } from '../../src/core/quant/ranges';
import { QuantizeError } from '../../src/core/types';

const arr = (a: ArrayLike<number>) => Array.from(a);

describe('numpy-compatible quantile and median', () => {
  it('linear interpolation (np.quantile default)', () => {
    // np.quantile([1,2,3,4], 0.25): index 0.25·3 = 0.75 → 1 + 0.75·(2−1) = 1.75
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    // np.quantile([0,1,2,3,10], 0.9): index 3.6 → 3 + 0.6·(10−3) = 7.2
    expect(quantileSorted([0, 1, 2, 3, 10], 0.9)).toBeCloseTo(7.2, 12);
    // q = 1e-4 on 5 values: index 4e-4 → 0 + 4e-4·1
    expect(quantileSorted([0, 1, 2, 3, 10], 1e-4)).toBeCloseTo(4e-4, 12);
    // q = 1 − 1e-4 on [0, 10]: index 0.9999 → 10 − 10·(1 − 0.9999) = 9.999
    expect(quantileSorted([0, 10], 1 - 1e-4)).toBeCloseTo(9.999, 10);
    expect(quantileSorted([5], 0.3)).toBe(5);
    expect(quantileSorted([1, 2], 0)).toBe(1);
    expect(quantileSorted([1, 2], 1)).toBe(2);
  });

  it('median: middle element or mean of the two middle', () => {
    expect(medianSorted([1, 2, 3])).toBe(2);
    expect(medianSorted([1, 2, 3, 4])).toBe(2.5);
  });
});

describe('aggregators', () => {
  it('mean / max / min / median per column of [samples, channels]', () => {
    // 3 samples × 2 channels
    const v = [1, 10, 2, 30, 6, 20];
    expect(arr(aggregateMatrix(v, 3, 2, 'mean'))).toEqual([3, 20]);
    expect(arr(aggregateMatrix(v, 3, 2, 'max'))).toEqual([6, 30]);
    expect(arr(aggregateMatrix(v, 3, 2, 'min'))).toEqual([1, 10]);
    expect(arr(aggregateMatrix(v, 3, 2, 'median'))).toEqual([2, 20]);
  });

  it('hl_estimator = 0.5 · median of pairwise sums over distinct pairs', () => {
    // [1,2,3]: sums 3,4,5 → median 4 → 2
    expect(hodgesLehmann([1, 2, 3])).toBe(2);
    // [0,0,10]: sums 0,10,10 → 10 → 5
    expect(hodgesLehmann([0, 0, 10])).toBe(5);
    // [1,2,3,10]: sums 3,4,11,5,12,13 → sorted 3,4,5,11,12,13 → (5+11)/2 = 8 → 4
    expect(hodgesLehmann([10, 1, 3, 2])).toBe(4);
    expect(hodgesLehmann([7])).toBe(7);
  });

  it('hl_estimator matches brute force on random data with ties', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const n of [2, 5, 50, 51]) {
      const x = Array.from({ length: n }, () => Math.round(rnd() * 20) / 4 - 2);
      const sums: number[] = [];
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) sums.push(x[i] + x[j]);
      sums.sort((a, b) => a - b);
      expect(hodgesLehmann(x)).toBe(0.5 * medianSorted(sums));
    }
  });

  it('hl_estimator is exact on values spanning many magnitudes and both signs', () => {
    const x = [-1, 1e-300, 3e10, -2.5e-8, 0, 7, -7, 1e-5, -1e10, 0.1];
    const sums: number[] = [];
    for (let i = 0; i < x.length; i++) for (let j = 0; j < i; j++) sums.push(x[i] + x[j]);
    sums.sort((a, b) => a - b);
    expect(hodgesLehmann(x)).toBe(0.5 * medianSorted(sums));
    expect(hodgesLehmann([-3, -1])).toBe(-2);
  });

  it('mean_no_outliers / median_no_outliers drop values outside the 1%–99% quantiles', () => {
    // x = 1..99 and 1000 (100 values): q(0.01) = 1.99, q(0.99) = 99 + 0.01·901 = 108.01
    // kept: 2..99 → mean 50.5, median 50.5 (plain mean would be 59.5)
    const x = [...Array.from({ length: 99 }, (_, i) => i + 1), 1000];
    expect(noOutliers(x, 'mean')).toBeCloseTo(50.5, 12);
    expect(noOutliers(x, 'median')).toBe(50.5);
    expect(aggregateMatrix(x, 100, 1, 'mean')[0]).toBeCloseTo(59.5, 12);
    expect(aggregateMatrix(x, 100, 1, 'mean_no_outliers')[0]).toBeCloseTo(50.5, 12);
    expect(aggregateMatrix(x, 100, 1, 'median_no_outliers')[0]).toBe(50.5);
  });

  it('refuses to aggregate zero samples', () => {
    expect(() => aggregateMatrix([], 0, 1, 'mean')).toThrow(QuantizeError);
  });
});

describe('range estimator resolution (POT range_estimator.py)', () => {
  const base = { range_estimator: {} };
  it('default preset table', () => {
    expect(activationEstimator(base, 'pertensor', 'symmetric')).toEqual({
      min: { type: 'min', aggregator: 'min', granularity: 'pertensor' },
      max: { type: 'abs_max', aggregator: 'mean', granularity: 'pertensor' },
    });
    expect(activationEstimator(base, 'pertensor', 'asymmetric')).toEqual({
      min: { type: 'min', aggregator: 'mean', granularity: 'pertensor' },
      max: { type: 'max', aggregator: 'mean', granularity: 'pertensor' },
    });
    // per-channel symmetric: min is computed per tensor
    expect(activationEstimator(base, 'perchannel', 'symmetric')).toEqual({
      min: { type: 'min', aggregator: 'min', granularity: 'pertensor' },
      max: { type: 'abs_max', aggregator: 'max', granularity: 'perchannel' },
    });
    expect(activationEstimator(base, 'perchannel', 'asymmetric')).toEqual({
      min: { type: 'min', aggregator: 'min', granularity: 'perchannel' },
      max: { type: 'max', aggregator: 'max', granularity: 'perchannel' },
    });
  });

  it("'quantile' preset: quantile / abs_quantile with q = 1e-4 and 1 − 1e-4", () => {
    const q = { range_estimator: { preset: 'quantile' as const } };
    const asym = activationEstimator(q, 'pertensor', 'asymmetric');
    expect(asym.min).toMatchObject({ type: 'quantile', aggregator: 'mean', outlier_prob: 1e-4 });
    expect(sampleStatFor('min', asym.min)).toEqual({ type: 'quantile', q: 1e-4, granularity: 'pertensor' });
    expect(sampleStatFor('max', asym.max)).toEqual({ type: 'quantile', q: 1 - 1e-4, granularity: 'pertensor' });
    const sym = activationEstimator(q, 'pertensor', 'symmetric');
    expect(sym.min).toEqual({ type: 'min', aggregator: 'min', granularity: 'pertensor' });
    expect(sampleStatFor('max', sym.max)).toEqual({ type: 'abs_quantile', q: 1 - 1e-4, granularity: 'pertensor' });
    expect(activationEstimator(q, 'perchannel', 'asymmetric').min.aggregator).toBe('min');
  });

  it('user overrides merge over the preset; the activations block replaces the global one', () => {
    const e = activationEstimator({ range_estimator: { max: { aggregator: 'max', clipping_value: 6 } } }, 'pertensor', 'symmetric');
    expect(e.max).toEqual({ type: 'abs_max', aggregator: 'max', clipping_value: 6, granularity: 'pertensor' });
    expect(clippingOptions(e)).toEqual({ clipMax: 6 });
    const r = activationEstimator({ range_estimator: { preset: 'quantile' }, activations: { range_estimator: { max: { aggregator: 'median' } } } }, 'pertensor', 'asymmetric');
    expect(r.max).toEqual({ type: 'max', aggregator: 'median', granularity: 'pertensor' });
    // switching the type to quantile without outlier_prob gets POT's default 1e-4
    const t = activationEstimator({ range_estimator: { min: { type: 'quantile' } } }, 'pertensor', 'asymmetric');
    expect(t.min.outlier_prob).toBe(1e-4);
    expect(() => activationEstimator({ range_estimator: { max: { aggregator: 'avg' as never } } }, 'pertensor', 'symmetric')).toThrow(QuantizeError);
  });

  it('weights: abs_max (sym) or min/max (asym); quantile preset uses (abs_)quantile', () => {
    expect(weightEstimator(base, 'symmetric')).toEqual({ max: { type: 'abs_max' } });
    expect(weightEstimator(base, 'asymmetric')).toEqual({ min: { type: 'min' }, max: { type: 'max' } });
    expect(weightEstimator({ range_estimator: { preset: 'quantile' } }, 'symmetric')).toEqual({ max: { type: 'abs_quantile', outlier_prob: 1e-4 } });
  });
});

describe('TensorStatsCollector', () => {
  // two samples of shape [2, 2]: s0 = [1, −3, 2, 0.5], s1 = [−1, 4, 0, 2]
  const batch = new Float32Array([1, -3, 2, 0.5, -1, 4, 0, 2]);
  const stats = [{ type: 'min' as const }, { type: 'max' as const }, { type: 'abs_max' as const }];

  it('per-tensor: one value per sample; mean of per-sample abs-max differs from the global max', () => {
    const c = new TensorStatsCollector({ granularity: 'pertensor', stats });
    c.add(batch, [2, 2, 2]);
    expect(c.samples).toBe(2);
    expect(arr(c.values({ type: 'min' }).data)).toEqual([-3, -1]);
    expect(arr(c.values({ type: 'max' }).data)).toEqual([2, 4]);
    expect(arr(c.values({ type: 'abs_max' }).data)).toEqual([3, 4]);
    expect(c.aggregate({ type: 'abs_max' }, 'mean')[0]).toBe(3.5); // (3 + 4) / 2
    expect(c.aggregate({ type: 'abs_max' }, 'max')[0]).toBe(4); // the global max
    expect(c.aggregate({ type: 'min' }, 'min')[0]).toBe(-3);
    expect(c.aggregate({ type: 'min' }, 'mean')[0]).toBe(-2);
  });

  it('streams: batches of one give the same result, and only per-sample values are kept', () => {
    const c = new TensorStatsCollector({ granularity: 'pertensor', stats });
    for (let s = 0; s < 2; s++) c.add(batch.slice(4 * s, 4 * s + 4), [1, 2, 2]);
    for (let s = 0; s < 40; s++) c.add(batch, [2, 2, 2]);
    expect(c.samples).toBe(82);
    const v = c.values({ type: 'abs_max' });
    expect(v.data.length).toBe(82);
    expect(v.width).toBe(1);
    expect(c.aggregate({ type: 'abs_max' }, 'mean')[0]).toBe(3.5);
  });

  it('quantile per sample with linear interpolation (abs_quantile on |x|)', () => {
    const c = new TensorStatsCollector({
      granularity: 'pertensor',
      stats: [
        { type: 'quantile', q: 0.9 },
        { type: 'abs_quantile', q: 0.9 },
        { type: 'quantile', q: 1e-4 },
      ],
    });
    // one sample [−10, 1, 2, 3, 0]: sorted [−10,0,1,2,3], q0.9 → index 3.6 → 2 + 0.6 = 2.6
    // |x| sorted [0,1,2,3,10] → 3 + 0.6·7 = 7.2 ; q1e-4 → −10 + 4e-4·10 = −9.996
    c.add(new Float32Array([-10, 1, 2, 3, 0]), [1, 5]);
    expect(c.values({ type: 'quantile', q: 0.9 }).data[0]).toBeCloseTo(2.6, 6);
    expect(c.values({ type: 'abs_quantile', q: 0.9 }).data[0]).toBeCloseTo(7.2, 6);
    expect(c.values({ type: 'quantile', q: 1e-4 }).data[0]).toBeCloseTo(-9.996, 6);
  });

  it('per-channel (depthwise input, NCHW): reduce all but axes 0 and 1', () => {
    const c = new TensorStatsCollector({
      granularity: 'perchannel',
      stats: [...stats, { type: 'mean' }, { type: 'min', granularity: 'pertensor' }],
    });
    // sample 0: ch0 [1,2,3,4], ch1 [−5,0,0,1], ch2 [0,0,0,0]
    // sample 1: ch0 [0,0,0,8], ch1 [1,1,1,1], ch2 [−0.5,0,0,0.25]
    c.add(new Float32Array([1, 2, 3, 4, -5, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 1, 1, 1, 1, -0.5, 0, 0, 0.25]), [2, 3, 2, 2]);
    expect(arr(c.values({ type: 'abs_max' }).data)).toEqual([4, 5, 0, 8, 1, 0.5]);
    expect(arr(c.values({ type: 'min' }).data)).toEqual([1, -5, 0, 0, 1, -0.5]);
    expect(arr(c.values({ type: 'mean' }).data)).toEqual([2.5, -1, 0, 2, 1, -0.0625]);
    expect(arr(c.aggregate({ type: 'abs_max' }, 'max'))).toEqual([8, 5, 0.5]);
    expect(arr(c.aggregate({ type: 'mean' }, 'mean'))).toEqual([2.25, 0, -0.03125]);
    // the per-tensor min of the same tensor (per-channel symmetric estimator)
    expect(arr(c.values({ type: 'min', granularity: 'pertensor' }).data)).toEqual([-5, -0.5]);
  });

  it('per-channel mean on the last axis (MatMul input [N, T, K])', () => {
    const c = new TensorStatsCollector({ granularity: 'perchannel', channelAxis: -1, stats: [{ type: 'mean' }] });
    // N=2, T=2, K=3: s0 rows [1,2,3],[3,4,5] → [2,3,4]; s1 rows [0,0,0],[2,2,-2] → [1,1,-1]
    c.add(new Float32Array([1, 2, 3, 3, 4, 5, 0, 0, 0, 2, 2, -2]), [2, 2, 3]);
    expect(arr(c.values({ type: 'mean' }).data)).toEqual([2, 3, 4, 1, 1, -1]);
    expect(arr(c.aggregate({ type: 'mean' }, 'mean'))).toEqual([1.5, 2, 1.5]);
  });

  it('rejects mismatched data, changed channel counts and unknown statistics', () => {
    const c = new TensorStatsCollector({ granularity: 'perchannel', stats: [{ type: 'max' }] });
    expect(() => c.add(new Float32Array(3), [1, 2, 2])).toThrow(QuantizeError);
    c.add(new Float32Array(4), [1, 2, 2]);
    expect(() => c.add(new Float32Array(6), [1, 3, 2])).toThrow(/channel count/);
    expect(() => c.values({ type: 'min' })).toThrow(/not collected/);
    expect(() => new TensorStatsCollector({ granularity: 'pertensor', stats: [{ type: 'quantile' }] })).toThrow(QuantizeError);
  });

  it('end to end: default per-tensor symmetric estimator → signed int8 grid', () => {
    const est = activationEstimator({ range_estimator: {} }, 'pertensor', 'symmetric');
    const c = new TensorStatsCollector({ granularity: 'pertensor', stats: sampleStatsFor(est) });
    // per-sample abs-max 2.54 and 2.54·... : samples [2.54, −1], [−2.0, 1.0] → abs-max 2.54, 2.0 → mean 2.27
    c.add(new Float32Array([2.54, -1, -2.0, 1.0]), [2, 2]);
    const agg = aggregateEstimator(c, est);
    expect(agg.max[0]).toBeCloseTo((Math.fround(2.54) + 2) / 2, 12);
    expect(agg.min[0]).toBe(-2);
    const p = symmetricActivationParams(agg.max, agg.min);
    expect(p.dtype).toBe('int8');
    expect(p.scale[0]).toBeCloseTo(2.27 / 127, 7);
  });
});
