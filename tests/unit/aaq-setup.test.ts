// AAQ before the greedy search: baseline values + metric subset, mixed preset, tune_hyperparams;
// plus DefaultQuantization, label-free flag, progress and log.
import { describe, expect, it } from 'vitest';
import { runAccuracyAware } from '../../src/core/algorithms/accuracy-aware';
import { runDefaultQuantization } from '../../src/core/algorithms/default-quantization';
import { gridSpaces } from '../../src/core/algorithms/tuning';
import { defaultDqParams } from '../../src/core/config/defaults';
import type { DefaultQuantizationParams } from '../../src/core/config/types';
import type { RunEvent } from '../../src/core/types';
import { FakeBackend, gid, ones, rows, type FakeSpec } from './helpers/fake-backend';
import { aaqParams } from './helpers/aaq-scenarios';

const A = 'accuracy@top1';

/** 16 samples, FP32 = 1, group g breaks samples 2g and 2g+1 → quantized 0.5. */
const pairs = (): FakeSpec => ({
  n: 16,
  groups: 4,
  metrics: [{ name: A, fp32: ones(16), damage: rows({ 0: [0, 1], 1: [2, 3], 2: [4, 5], 3: [6, 7] }) }],
});

describe('baseline_value + metric_subset_ratio', () => {
  const params = (seed = 0, over = {}) => aaqParams({ metrics: [{ name: A, baseline_value: 1 }], maximal_drop: 0.2, seed, ranking_subset_size: 4, ...over });

  it('FP32 is not evaluated up front; later only on a seeded sorted subset of int(N × ratio)', async () => {
    const b = new FakeBackend(pairs());
    const r = await runAccuracyAware(b, params());
    const kinds = b.calls.map((c) => (c.kind === 'quantize' ? 'quantize' : c.fp32 ? 'fp32' : c.indices ? 'subset' : 'full'));
    expect(kinds.slice(0, 3)).toEqual(['quantize', 'full', 'fp32']); // no FP32 pass before quantizing
    const fp32 = b.fp32Evals();
    expect(fp32).toHaveLength(1);
    const subset = fp32[0].indices!;
    expect(subset).toHaveLength(8);
    expect([...subset].sort((x, y) => x - y)).toEqual(subset);
    expect(new Set(subset).size).toBe(8);
    expect(r.diffSubsetSize).toBe(8);
    expect(r.baseline).toEqual({ [A]: 1 });
    // rankings only ever look at samples of the diff subset
    for (const k of r.rankings) expect(k.subset.every((i) => subset.includes(i))).toBe(true);
    expect(r.status).toBe('met');
    // reproducible for a seed, different for another
    const again = await runAccuracyAware(new FakeBackend(pairs()), params());
    expect(again).toEqual(r);
    const other = new FakeBackend(pairs());
    await runAccuracyAware(other, params(12345));
    expect(other.fp32Evals()[0].indices).not.toEqual(subset);
  });

  it('the ranking subset comes from degraded samples inside the diff subset', async () => {
    const b = new FakeBackend(pairs());
    const r = await runAccuracyAware(b, params());
    const subset = b.fp32Evals()[0].indices!;
    const degraded = subset.filter((i) => i < 8); // only samples 0..7 are damaged
    const first = r.rankings[0].subset;
    // the 4 most degraded positions: all damaged samples first (ties → later indices first)
    const expected = [...degraded]
      .reverse()
      .concat([...subset.filter((i) => i >= 8)].reverse())
      .slice(0, 4)
      .sort((x, y) => x - y);
    expect(first).toEqual(expected);
  });

  it('target met by the quantized model → FP32 never runs', async () => {
    const b = new FakeBackend(pairs());
    const r = await runAccuracyAware(b, params(0, { maximal_drop: 0.5 }));
    expect(r.status).toBe('met');
    expect(b.fp32Evals()).toHaveLength(0);
  });

  it('ratio 1 → all samples; annotation_free → FP32 measured on the whole set', async () => {
    const b = new FakeBackend(pairs());
    const r = await runAccuracyAware(b, params(0, { metric_subset_ratio: 1 }));
    expect(r.diffSubsetSize).toBe(16);
    expect(b.fp32Evals()[0].indices).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const c = new FakeBackend(pairs());
    await runAccuracyAware(c, params(0, { annotation_free: true }));
    expect(c.calls[0]).toMatchObject({ kind: 'evaluate', fp32: true, indices: null });
  });
});

describe('convert_to_mixed_preset', () => {
  const spec = (): FakeSpec => ({
    n: 8,
    groups: 2,
    metrics: [{ name: A, fp32: ones(8), damage: rows({ 0: [0, 1], 1: [2] }) }],
    factor: (p) => (p.preset === 'mixed' ? 0.5 : 1),
  });

  it('from performance: re-quantizes with the mixed preset; meeting the target ends the run', async () => {
    const b = new FakeBackend(spec());
    const r = await runAccuracyAware(b, aaqParams({ convert_to_mixed_preset: true, maximal_drop: 0.2 }));
    expect(b.quantizeCalls().map((c) => c.params.preset)).toEqual(['performance', 'mixed']);
    expect(r.quantized[A]).toBe(0.625);
    expect(r.mixed).toEqual({ metrics: { [A]: 0.8125 }, drop: { [A]: 0.1875 }, applied: true });
    expect(r.status).toBe('met');
    expect(r.state.params.preset).toBe('mixed');
    expect(r.selected.source).toBe('mixed');
  });

  it('only from the performance preset', async () => {
    const acc = new FakeBackend(spec());
    const r1 = await runAccuracyAware(acc, aaqParams({ convert_to_mixed_preset: true, maximal_drop: 0.2, preset: 'accuracy' }));
    expect(acc.quantizeCalls()).toHaveLength(1);
    expect(r1.mixed).toBeNull();
    const asym = new FakeBackend(spec());
    await runAccuracyAware(asym, aaqParams({ convert_to_mixed_preset: true, maximal_drop: 0.2, activations: { mode: 'asymmetric' } }));
    expect(asym.quantizeCalls()).toHaveLength(1);
    const off = new FakeBackend(spec());
    await runAccuracyAware(off, aaqParams({ maximal_drop: 0.2 }));
    expect(off.quantizeCalls()).toHaveLength(1);
  });

  it('a failing mixed model replaces the quantized one; forced asym activations / sym weights', async () => {
    const b = new FakeBackend(spec());
    const r = await runAccuracyAware(b, aaqParams({ convert_to_mixed_preset: true, maximal_drop: 0.1, weights: { mode: 'symmetric' }, activations: { mode: 'symmetric' } }));
    const q = b.quantizeCalls();
    expect(q).toHaveLength(2);
    expect(q[1].params).toMatchObject({ preset: 'mixed', activations: { mode: 'asymmetric' }, weights: { mode: 'symmetric' } });
    // the search starts from the mixed model: ranking and iterations evaluate mixed states
    expect(b.subsetQuantEvals().every((c) => c.params!.preset === 'mixed')).toBe(true);
    expect(r.history.map((h) => [h.group, h.drop[A]])).toEqual([[gid(0), 0.0625]]);
    expect(r.status).toBe('met');
    expect(r.state.params.preset).toBe('mixed');
  });
});

describe('tune_hyperparams', () => {
  const isGood = (p: DefaultQuantizationParams) => {
    const re = p.activations.range_estimator;
    return re?.min?.type === 'quantile' && re.min.outlier_prob === 1e-3 && re.max?.type === 'quantile' && re.max.outlier_prob === 1e-4;
  };
  const spec = (): FakeSpec => ({
    n: 16,
    groups: 2,
    metrics: [{ name: A, fp32: ones(16), damage: rows({ 0: [0, 1, 2, 3], 1: [4, 5, 6, 7] }) }],
    factor: (p) => (isGood(p) ? 0.25 : p.weights.range_estimator?.max?.type === 'max' ? 0.75 : 1) * (p.use_fast_bias ? 1 : 0.5),
  });

  it('runs POT grid (10 + 2 quantizations on the hardest subset) and keeps the best when the mean drop improves', async () => {
    const b = new FakeBackend(spec());
    const r = await runAccuracyAware(b, aaqParams({ tune_hyperparams: true, maximal_drop: 0.1, ranking_subset_size: 8 }));
    expect(b.quantizeCalls()).toHaveLength(1 + 12);
    const sub = b.subsetQuantEvals();
    expect(sub).toHaveLength(12);
    expect(sub.every((c) => JSON.stringify(c.indices) === JSON.stringify([0, 1, 2, 3, 4, 5, 6, 7]))).toBe(true);
    const t = r.tuning!;
    expect(t.runs.map((x) => x.metrics[A])).toEqual([0.25, 0, 0, 0, 0, 0, 0.75, 0, 0, 0, 0.75, 0.875]);
    expect(t.runs[0].error).toBe(0); // the first run defines the reference
    expect(t.runs[1].error).toBeCloseTo(1, 6); // −(0 − 0.25)/0.25
    expect(t.runs[6].error).toBeCloseTo(-2, 6);
    expect(t.bestRun).toBe(11);
    // space 2 appends the space-1 winner to both of its guesses
    const q = b.quantizeCalls();
    for (const c of [q[11], q[12]]) expect(isGood(c.params)).toBe(true);
    expect([q[11].params.use_fast_bias, q[12].params.use_fast_bias]).toEqual([true, false]);
    expect(q[6].params.activations.range_estimator).toEqual((gridSpaces()[0][5][0] as { range_estimator: unknown }).range_estimator);
    // the winner is not re-quantized: its state is evaluated on the full set once and kept
    expect(b.fullQuantEvals()).toHaveLength(2);
    expect(t.applied).toBe(true);
    expect(t.drop[A]).toBe(0.0625);
    expect(r.status).toBe('met');
    expect(r.state.params.use_fast_bias).toBe(false);
    expect(isGood(r.state.params)).toBe(true);
    expect(r.selected.source).toBe('tuned');
  });

  it('the tuned model is dropped when the mean drop does not improve', async () => {
    const worse: FakeSpec = {
      ...spec(),
      metrics: [{ name: A, fp32: Array(16).fill(4), damage: rows({ 0: [0, 1, 2, 3], 1: [4, 5, 6, 7] }) }],
      factor: (p) => (p.activations.range_estimator || p.weights.range_estimator ? 1.5 : 1),
    };
    const b = new FakeBackend(worse);
    const r = await runAccuracyAware(b, aaqParams({ tune_hyperparams: true, maximal_drop: 0.1, ranking_subset_size: 8 }));
    expect(r.tuning!.bestRun).toBe(0);
    expect(r.tuning!.applied).toBe(false);
    expect(r.tuning!.drop[A]).toBe(0.75);
    // the search continues from the default-quantized state
    const rankingEvals = b.subsetQuantEvals().slice(12);
    expect(rankingEvals.length).toBeGreaterThan(0);
    expect(rankingEvals.every((c) => c.params!.activations.range_estimator === undefined)).toBe(true);
    expect(r.state.params.weights.range_estimator).toBeUndefined();
  });
});

describe('DefaultQuantization, label-free, progress', () => {
  it('runDefaultQuantization: FP32 baseline, quantize, evaluate', async () => {
    const b = new FakeBackend({ n: 8, groups: 2, metrics: [{ name: A, fp32: ones(8), damage: rows({ 1: [3] }) }] });
    const r = await runDefaultQuantization(b, defaultDqParams());
    expect(r.baseline).toEqual({ [A]: 1 });
    expect(r.quantized).toEqual({ [A]: 0.875 });
    expect(r.drop).toEqual({ [A]: 0.125 });
    expect(r.state.enabled).toHaveLength(4);
    expect(b.calls.map((c) => c.kind)).toEqual(['evaluate', 'quantize', 'evaluate']);
    expect(r.labelFree).toBe(false);
  });

  it('agreement@top1 only → labelFree', async () => {
    const spec: FakeSpec = { n: 8, groups: 2, metrics: [{ name: 'agreement@top1', fp32: ones(8), damage: rows({ 0: [0] }) }] };
    const r = await runAccuracyAware(new FakeBackend(spec), aaqParams({ maximal_drop: 0.05 }));
    expect(r.labelFree).toBe(true);
    expect(r.status).toBe('met');
    const r2 = await runAccuracyAware(new FakeBackend(pairs()), aaqParams({ maximal_drop: 0.5 }));
    expect(r2.labelFree).toBe(false);
  });

  it('reports progress per stage and logs POT messages', async () => {
    const events: RunEvent[] = [];
    const logs: string[] = [];
    const r = await runAccuracyAware(new FakeBackend(pairs()), aaqParams({ maximal_drop: 0.2, max_iter_num: 1 }), {
      progress: (e) => events.push(e),
      log: (m) => logs.push(m),
    });
    const stages = new Set(events.map((e) => e.stage));
    for (const s of ['baseline', 'quantized-eval', 'ranking', 'iteration', 'done']) expect(stages.has(s as RunEvent['stage'])).toBe(true);
    for (const m of r.messages) expect(logs).toContain(m);
    expect(logs).toContain('The total number of quantized operations in the graph: 4');
  });
});
