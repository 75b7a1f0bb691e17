// Pure building blocks of AAQ: tie order, ranking order, hardest subset, PRNG, drops, presets, grid.
import { describe, expect, it } from 'vitest';
import { hardestSubset, orderRanking, rankingSubset, resolveGroup, sortByDegradation, topDegradedPositions } from '../../src/core/algorithms/ranking';
import { mulberry32, sampleSorted, seedState } from '../../src/core/algorithms/prng';
import { comparator, computeDrops, computeThresholds, isLabelFree, metricToOptimize, resolveMetrics, restrictionsMet } from '../../src/core/algorithms/drop';
import { baseParams, isPresetPerformance, mixedPresetParams } from '../../src/core/algorithms/params';
import { applyGuess, gridError, gridRunCount, gridSpaces } from '../../src/core/algorithms/tuning';
import { defaultDqParams } from '../../src/core/config/defaults';
import { QuantizeError } from '../../src/core/types';
import { aaqParams } from './helpers/aaq-scenarios';

const g = (id: string) => ({ id, quantizers: [id], ops: [id] });

describe('ranking subset (POT tie order)', () => {
  it('NNCF test: [1,2,1,2,3,1], size 4 → [1,3,4,5]', () => {
    expect(topDegradedPositions([1, 2, 1, 2, 3, 1], [0, 0, 0, 0, 0, 0], 'higher-better', 4)).toEqual([1, 3, 4, 5]);
  });
  it('argsort then flip: among equal degradations later samples come first', () => {
    expect(sortByDegradation([1, 1, 1, 1], [0, 0, 0, 0], 'higher-better')).toEqual([3, 2, 1, 0]);
    expect(sortByDegradation([1, 2, 1, 2, 3, 1], [0, 0, 0, 0, 0, 0], 'higher-better')).toEqual([4, 3, 1, 5, 2, 0]);
  });
  it('degradation is comparator(fp32 − q): for lower-better the largest increase is worst', () => {
    // errors: fp32 0.1 everywhere; quantized errors grow most on sample 2, then 0
    expect(topDegradedPositions([0.1, 0.1, 0.1, 0.1], [0.3, 0.1, 0.5, 0.0], 'lower-better', 2)).toEqual([0, 2]);
    expect(topDegradedPositions([0.1, 0.1, 0.1, 0.1], [0.3, 0.1, 0.5, 0.0], 'higher-better', 2)).toEqual([1, 3]);
  });
  it('maps positions through diff_subset and returns dataset indices ascending', () => {
    expect(rankingSubset([1, 1, 1], [0, 1, 0.5], 'higher-better', [10, 20, 30], 2)).toEqual([10, 30]);
  });
  it('hardest subset: equal share per metric, deduplicated', () => {
    const fp32 = { a: [1, 1, 1, 1, 1, 1], b: [1, 1, 1, 1, 1, 1] };
    const q = { a: [0, 0.1, 1, 1, 1, 1], b: [1, 1, 1, 1, 0.2, 0] };
    const m = [
      { name: 'a', direction: 'higher-better' as const },
      { name: 'b', direction: 'higher-better' as const },
    ];
    expect(hardestSubset(m, fp32, q, [0, 1, 2, 3, 4, 5], 4)).toEqual([0, 1, 4, 5]);
    // overlap: both metrics pick sample 0 first; the loop tops up from later ranks
    const q2 = { a: [0, 0.5, 1, 1, 1, 1], b: [0, 1, 1, 0.5, 1, 1] };
    expect(hardestSubset(m, fp32, q2, [0, 1, 2, 3, 4, 5], 3)).toEqual([0, 1, 3]);
    // never more than the diff subset holds
    expect(hardestSubset(m, fp32, q, [0, 1, 2, 3, 4, 5], 50)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('ranking order', () => {
  it('(score, id) descending; ties go to the larger id', () => {
    const r = orderRanking([
      { group: g('a:b'), score: 0.5 },
      { group: g('a:c'), score: 0.7 },
      { group: g('a:a'), score: 0.5 },
      { group: g('a:z'), score: 0.1 },
    ]);
    expect(r.map((x) => x.group.id)).toEqual(['a:c', 'a:b', 'a:a', 'a:z']);
  });
  it('re-derives a popped group on the current state', () => {
    const stored = { id: 'a:x', quantizers: ['a:x', 'w:x'], ops: ['op'] };
    expect(resolveGroup([{ id: 'a:x', quantizers: ['a:x'], ops: ['op'] }], stored, ['a:x']).quantizers).toEqual(['a:x']);
    expect(resolveGroup([{ id: 'a:y', quantizers: ['a:y', 'a:x'], ops: ['op', 'op2'] }], stored, []).id).toBe('a:y');
    expect(resolveGroup([], stored, ['w:x']).quantizers).toEqual(['w:x']);
  });
});

describe('seeded PRNG', () => {
  it('mulberry32 is deterministic and uniform-ish', () => {
    let st = seedState(42);
    const xs: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = mulberry32(st);
      st = r.state;
      xs.push(r.value);
    }
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(mulberry32(seedState(42)).value).toBe(xs[0]);
  });
  it('sampleSorted: k distinct sorted indices, reproducible, seed-dependent', () => {
    const a = sampleSorted(100, 50, seedState(1));
    expect(a.indices).toHaveLength(50);
    expect(new Set(a.indices).size).toBe(50);
    expect([...a.indices].sort((x, y) => x - y)).toEqual(a.indices);
    expect(a.indices.every((i) => i >= 0 && i < 100)).toBe(true);
    expect(sampleSorted(100, 50, seedState(1)).indices).toEqual(a.indices);
    expect(sampleSorted(100, 50, seedState(2)).indices).not.toEqual(a.indices);
  });
});

describe('drops and thresholds', () => {
  const specs = [
    { name: 'a', direction: 'higher-better' as const },
    { name: 'e', direction: 'lower-better' as const },
  ];
  it('drop = comparator(baseline − current); lower-better is negated', () => {
    expect(comparator('lower-better')(2)).toBe(-2);
    expect(computeDrops(specs, { a: 0.75, e: 0.25 }, { a: 0.5, e: 0.5 })).toEqual({ a: 0.25, e: 0.25 });
  });
  it('absolute vs relative thresholds; the stop test is inclusive', () => {
    expect(computeThresholds(specs, { a: 0.5, e: 0.25 }, { maximal_drop: 0.25, drop_type: 'absolute' })).toEqual({ a: 0.25, e: 0.25 });
    const rel = computeThresholds(specs, { a: 0.5, e: 0.25 }, { maximal_drop: 0.25, drop_type: 'relative' });
    expect(rel).toEqual({ a: 0.125, e: 0.0625 });
    expect(restrictionsMet(specs, { a: 0.125, e: 0.0625 }, rel)).toBe(true);
    expect(restrictionsMet(specs, { a: 0.125, e: 0.0625001 }, rel)).toBe(false);
  });
  it('metric to optimise: largest (drop − max_drop)/baseline; ties → last in config order (POT sort[-1])', () => {
    const thr = { a: 0.01, e: 0.01 };
    expect(metricToOptimize(specs, { a: 0.11, e: 0.06 }, thr, { a: 1, e: 0.25 })).toBe('e'); // 0.1 vs 0.2
    expect(metricToOptimize(specs, { a: 0.11, e: 0.06 }, thr, { a: 1, e: 1 })).toBe('a');
    expect(metricToOptimize(specs, { a: 0.11, e: 0.11 }, thr, { a: 1, e: 1 })).toBe('e');
  });
  it('resolves configured metrics against the engine and rejects unknown ones', () => {
    const defs = [
      { name: 'accuracy@top1' as const, direction: 'higher-better' as const, needsLabels: true },
      { name: 'agreement@top1' as const, direction: 'higher-better' as const, needsLabels: false },
    ];
    expect(resolveMetrics(defs, null).map((m) => m.name)).toEqual(['accuracy@top1', 'agreement@top1']);
    expect(resolveMetrics(defs, [{ name: 'agreement@top1', baseline_value: 1 }])).toEqual([{ name: 'agreement@top1', direction: 'higher-better', baselineValue: 1 }]);
    expect(() => resolveMetrics(defs, [{ name: 'accuracy@top5' }])).toThrow(QuantizeError);
    expect(isLabelFree(resolveMetrics(defs, [{ name: 'agreement@top1' }]))).toBe(true);
    expect(isLabelFree(resolveMetrics(defs, null))).toBe(false);
  });
});

describe('presets', () => {
  it('is_preset_performance rules', () => {
    const p = defaultDqParams();
    expect(isPresetPerformance(p)).toBe(true);
    expect(isPresetPerformance({ ...p, preset: 'mixed' })).toBe(false);
    expect(isPresetPerformance({ ...p, preset: 'mixed', weights: { mode: 'symmetric' }, activations: { mode: 'symmetric' } })).toBe(true);
    expect(isPresetPerformance({ ...p, activations: { mode: 'asymmetric' } })).toBe(false);
    expect(isPresetPerformance({ ...p, weights: { mode: 'asymmetric' } })).toBe(false);
  });
  it('mixed preset config: preset mixed, explicit modes forced asym activations / sym weights', () => {
    const p = { ...defaultDqParams(), weights: { mode: 'asymmetric' as const }, activations: { mode: 'symmetric' as const } };
    const m = mixedPresetParams(p);
    expect(m.preset).toBe('mixed');
    expect(m.activations.mode).toBe('asymmetric');
    expect(m.weights.mode).toBe('symmetric');
    expect(p.preset).toBe('performance'); // input untouched
    expect(mixedPresetParams(defaultDqParams()).activations.mode).toBeUndefined();
  });
  it('baseParams strips the AAQ-only keys', () => {
    const b = baseParams(aaqParams({ maximal_drop: 0.5 })) as unknown as Record<string, unknown>;
    expect(b.maximal_drop).toBeUndefined();
    expect(b.preset).toBe('performance');
  });
});

describe('tune_hyperparams grid', () => {
  it('POT ParamsGridSearchAlgorithm spaces: [weights min/max, 3×3 activations], [fast bias ∈ {T,F}]', () => {
    const [s1, s2] = gridSpaces();
    expect(s1).toHaveLength(10);
    expect(s2).toHaveLength(2);
    expect(gridRunCount()).toBe(12);
    expect(s1[0]).toEqual([{ ns: 'weights', range_estimator: { min: { type: 'min' }, max: { type: 'max' } } }]);
    const acts = s1.slice(1).map((gs) => gs[0]);
    expect(acts.every((a) => a.ns === 'activations')).toBe(true);
    expect(acts[0]).toEqual({ ns: 'activations', range_estimator: { min: { type: 'min', aggregator: 'min' }, max: { type: 'max', aggregator: 'max' } } });
    expect(acts[8]).toEqual({
      ns: 'activations',
      range_estimator: {
        min: { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-4 },
        max: { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-4 },
      },
    });
  });
  it('applyGuess replaces the range estimator and keeps the mode', () => {
    const base = { ...defaultDqParams(), activations: { mode: 'asymmetric' as const, range_estimator: { preset: 'quantile' as const } } };
    const p = applyGuess(base, [gridSpaces()[0][6][0], { ns: 'use_fast_bias', value: false }]);
    expect(p.activations.mode).toBe('asymmetric');
    expect(p.activations.range_estimator).toEqual({
      min: { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-3 },
      max: { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-4 },
    });
    expect(p.use_fast_bias).toBe(false);
    expect(base.activations.range_estimator).toEqual({ preset: 'quantile' });
  });
  it('error = −mean comparator((metric − ref)/ref); 0 before the reference exists', () => {
    const specs = [
      { name: 'a', direction: 'higher-better' as const },
      { name: 'e', direction: 'lower-better' as const },
    ];
    expect(gridError(specs, { a: 0.5, e: 0.5 }, null)).toBe(0);
    // a improved by 10 %, e (lower-better) worsened by 20 % → −mean(0.1, −0.2) = 0.05
    expect(gridError(specs, { a: 0.55, e: 0.6 }, { a: 0.5, e: 0.5 })).toBeCloseTo(0.05, 12);
  });
});
