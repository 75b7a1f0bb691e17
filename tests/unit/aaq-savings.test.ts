// The AAQ work savings (reuse_evaluations, early_stop, lazy_ranking) never change a decision:
// random scripted models, each run twice — POT's schedule (all three off) and the default — must
// give the same iterations, reverted groups, final state and metrics; and the inferences the
// optimised run skipped must add up exactly to the difference between the two schedules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAccuracyAware, type AaqResult, type AaqRunState } from '../../src/core/algorithms/accuracy-aware';
import type { QuantState } from '../../src/core/algorithms/backend';
import type { AccuracyAwareParams } from '../../src/core/config/types';
import { FakeBackend, gid, type FakeMetric, type FakeSpec } from './helpers/fake-backend';
import { aaqParams } from './helpers/aaq-scenarios';

/** The scripted backend with per-sample values clamped to [0, 1] and vouching for it. */
class BoundedFake extends FakeBackend {
  override value(m: FakeMetric, n: number, state: QuantState | null): number {
    return Math.min(1, Math.max(0, super.value(m, n, state)));
  }
  perSampleBounds(): [number, number] {
    return [0, 1];
  }
}

const OFF = { reuse_evaluations: false, early_stop: false, lazy_ranking: false, prefix_cache: false };

async function both(spec: FakeSpec, params: AccuracyAwareParams) {
  const potB = new BoundedFake(spec);
  const optB = new BoundedFake(spec);
  const pot = await runAccuracyAware(potB, { ...params, ...OFF });
  const opt = await runAccuracyAware(optB, params);
  return { pot, opt, potN: potB.counts().inferences, optN: optB.counts().inferences };
}

const decisions = (r: AaqResult) => ({
  status: r.status,
  history: r.history.map((h) => [h.iteration, h.group, h.accepted, h.rolledBack, h.reranked, h.switchedTo ?? null]),
  reverted: r.reverted,
  enabled: r.state.enabled,
  final: r.final,
  drop: r.drop,
  quantized: r.quantized,
  messages: r.messages,
  rankings: r.rankings.map((k) => [k.afterIteration, k.metric, k.subset]),
});

function checkSame(pot: AaqResult, opt: AaqResult): void {
  expect(decisions(opt)).toEqual(decisions(pot));
  expect(pot.savings).toEqual({ reuse_evaluations: 0, early_stop: 0, lazy_ranking: 0 });
  // Exact history values equal POT's; an early-stopped pass reports a lower bound of the drop.
  opt.history.forEach((h, i) => {
    const p = pot.history[i];
    for (const m of Object.keys(p.drop)) {
      if (h.partial) expect(h.drop[m]).toBeLessThanOrEqual(p.drop[m]);
      else expect(h.drop[m]).toBe(p.drop[m]);
    }
  });
  // Exact ranking scores equal POT's; bounded ones are upper bounds of them.
  opt.rankings.forEach((k, i) => {
    const byGroup = new Map(pot.rankings[i].scores.map((x) => [x.group, x.score]));
    expect(k.scores).toHaveLength(byGroup.size);
    for (const x of k.scores) {
      if (x.bound) expect(x.score).toBeGreaterThanOrEqual(byGroup.get(x.group)!);
      else expect(x.score).toBe(byGroup.get(x.group));
    }
  });
}

const scenario = fc
  .record({
    n: fc.integer({ min: 8, max: 40 }),
    groups: fc.integer({ min: 2, max: 6 }),
    seedRows: fc.array(fc.array(fc.tuple(fc.nat(39), fc.constantFrom(1, 1, 1, -1)), { maxLength: 8 }), { minLength: 6, maxLength: 6 }),
    fp32Wrong: fc.array(fc.nat(39), { maxLength: 6 }),
    secondMetric: fc.boolean(),
    maxDrop: fc.constantFrom(0, 0.02, 0.05, 0.1),
    rss: fc.constantFrom(null, 4, 8),
    maxIter: fc.constantFrom(null, null, 2, 3),
    usePrev: fc.boolean(),
    exclude: fc.boolean(),
  })
  .map((r) => {
    const damage: FakeMetric['damage'] = {};
    r.seedRows.slice(0, r.groups).forEach((row, g) => {
      damage[g] = Object.fromEntries(row.filter(([n]) => n < r.n).map(([n, v]) => [n, v]));
    });
    const fp32 = Array.from({ length: r.n }, (_, i) => (r.fp32Wrong.includes(i) ? 0 : 1));
    const metrics: FakeMetric[] = [{ name: 'accuracy@top1', fp32, damage }];
    if (r.secondMetric) metrics.push({ name: 'accuracy@top5', fp32: fp32.map(() => 1), damage: { 0: damage[0] ?? {} } });
    const spec: FakeSpec = { n: r.n, groups: r.groups, metrics };
    const params = aaqParams({
      maximal_drop: r.maxDrop,
      ranking_subset_size: r.rss,
      max_iter_num: r.maxIter,
      use_prev_if_drop_increase: r.usePrev,
      exclude_rolled_back: r.exclude,
    });
    return { spec, params };
  });

describe('AAQ work savings keep POT decisions', () => {
  it('random scripted models: same decisions, and the savings account for every skipped inference', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ spec, params }) => {
        const { pot, opt, potN, optN } = await both(spec, params);
        checkSame(pot, opt);
        const saved = opt.savings.reuse_evaluations + opt.savings.early_stop + opt.savings.lazy_ranking;
        expect(optN + saved).toBe(potN);
        expect(optN).toBeLessThanOrEqual(potN);
      }),
      { numRuns: 300, seed: 20261129 },
    );
  });

  it('early stop: an iteration that cannot meet the target stops after the decisive samples', async () => {
    // 64 samples; g0 breaks 0..7 (kept quantized would cost 8/64), g1 breaks 8..9, g2 breaks 10.
    const damage = { 0: Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((n) => [n, 1])), 1: { 8: 1, 9: 1 }, 2: { 10: 1 } };
    const spec: FakeSpec = { n: 64, groups: 3, metrics: [{ name: 'accuracy@top1', fp32: Array(64).fill(1), damage }] };
    const { pot, opt, potN, optN } = await both(spec, aaqParams({ maximal_drop: 0, ranking_subset_size: 32 }));
    checkSame(pot, opt);
    expect(pot.reverted.map((r) => r.group)).toEqual([gid(0), gid(1), gid(2)]);
    expect(opt.savings.early_stop).toBeGreaterThan(0);
    expect(opt.savings.lazy_ranking).toBeGreaterThan(0);
    expect(opt.history.some((h) => h.partial)).toBe(true);
    expect(optN).toBeLessThan(potN);
  });

  it('resumed from any snapshot (partial passes and bounded rankings inside), the run ends the same', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.nat(), async ({ spec, params }, pick) => {
        const snaps: AaqRunState[] = [];
        const full = await runAccuracyAware(new BoundedFake(spec), params, { checkpoint: (st) => void snaps.push(st) });
        const from = snaps[pick % snaps.length];
        const resumed = await runAccuracyAware(new BoundedFake(spec), params, { resumeFrom: from });
        expect(decisions(resumed)).toEqual(decisions(full));
        expect(resumed.savings).toEqual(full.savings);
        expect(resumed.history).toEqual(full.history);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('a backend without perSampleBounds runs POT schedule whatever the parameters', async () => {
    const spec: FakeSpec = { n: 16, groups: 3, metrics: [{ name: 'accuracy@top1', fp32: Array(16).fill(1), damage: { 0: { 0: 1, 1: 1 }, 1: { 2: 1 } } }] };
    const b = new FakeBackend(spec);
    const r = await runAccuracyAware(b, aaqParams({ maximal_drop: 0 }));
    expect(r.savings).toEqual({ reuse_evaluations: 0, early_stop: 0, lazy_ranking: 0 });
    expect(b.fullQuantEvals().length).toBe(1 + r.history.length);
  });
});
