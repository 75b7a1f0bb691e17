// The ranker contract (src/core/algorithms/ranker.ts): the factory's choice, a custom ranker plugged
// in through AaqOptions.ranker (the loop reverts in its order and edits nothing it gets), and
// recorded rankings that never change after being recorded, finished lazy scores kept beside them.
import { describe, expect, it } from 'vitest';
import { initialRunState, runAccuracyAware, type AaqRunState } from '../../src/core/algorithms/accuracy-aware';
import type { AaqContext } from '../../src/core/algorithms/aaq-context';
import type { QuantState } from '../../src/core/algorithms/backend';
import { resolveMetrics } from '../../src/core/algorithms/drop';
import { createRanker, reportedRankings, type NextInput, type Ranker } from '../../src/core/algorithms/ranker';
import type { RankedGroup } from '../../src/core/algorithms/ranking';
import type { AccuracyAwareParams } from '../../src/core/config/types';
import { FakeBackend, gid, ones, rows, type FakeMetric, type FakeSpec } from './helpers/fake-backend';
import { aaqParams } from './helpers/aaq-scenarios';

const A = 'accuracy@top1';
const OFF = { reuse_evaluations: false, early_stop: false, lazy_ranking: false, prefix_cache: false };

/** The scripted backend with per-sample values clamped to [0, 1] and vouching for it (savings allowed). */
class BoundedFake extends FakeBackend {
  override value(m: FakeMetric, n: number, state: QuantState | null): number {
    return Math.min(1, Math.max(0, super.value(m, n, state)));
  }
  perSampleBounds(): [number, number] {
    return [0, 1];
  }
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function rankerOf(backend: FakeBackend, params: AccuracyAwareParams): Ranker {
  const ctx: AaqContext = { backend, params, specs: resolveMetrics(backend.metricDefs(), params.metrics), log: () => {} };
  const s = initialRunState(backend, params);
  s.diffSubset = Array.from({ length: backend.datasetSize }, (_, i) => i);
  return createRanker(ctx, s);
}

/** Once written, a ranking record reads the same in every later snapshot. */
function expectRecordsUnchanged(snaps: AaqRunState[]): void {
  snaps.forEach((a, i) => {
    for (const b of snaps.slice(i + 1)) {
      expect(b.rankings.slice(0, a.rankings.length)).toEqual(a.rankings);
      expect(b.finishedScores.slice(0, a.finishedScores.length)).toEqual(a.finishedScores);
    }
  });
}

describe('ranker factory', () => {
  const spec: FakeSpec = { n: 8, groups: 2, metrics: [{ name: A, fp32: ones(8), damage: rows({ 0: [0] }) }] };
  it('POT ranking without savings, the saving ranking with them (backend bounds required)', () => {
    expect(rankerOf(new BoundedFake(spec), aaqParams()).name).toBe('savings');
    expect(rankerOf(new BoundedFake(spec), aaqParams({ ...OFF, lazy_ranking: true })).name).toBe('savings');
    expect(rankerOf(new BoundedFake(spec), aaqParams({ ...OFF, reuse_evaluations: true })).name).toBe('savings');
    expect(rankerOf(new BoundedFake(spec), aaqParams({ ...OFF, early_stop: true })).name).toBe('pot');
    expect(rankerOf(new FakeBackend(spec), aaqParams()).name).toBe('pot');
  });
});

describe('a custom ranker through AaqOptions.ranker', () => {
  // 16 samples; groups 0..3 each break one sample, group 4 is harmless. POT's tie order (larger id
  // first) reverts g3, g2, g1, g0; this ranker wants ascending ids, with bounds it finishes in `next`.
  const spec: FakeSpec = { n: 16, groups: 5, metrics: [{ name: A, fp32: ones(16), damage: rows({ 0: [0], 1: [1], 2: [2], 3: [3] }) }] };
  const params = aaqParams({ maximal_drop: 0 });

  function ascending() {
    const calls = { rank: 0, queues: [] as string[][] };
    const ranker: Ranker = {
      name: 'ascending',
      async rank({ groups, onStart, onGroup }) {
        calls.rank++;
        onStart?.(0);
        const entries: RankedGroup[] = groups.map((group) => ({ group, score: 1 - Number(group.id.slice(3)) / 10, bound: true })).sort((a, b) => b.score - a.score);
        onGroup?.(groups.length, groups.length);
        return deepFreeze({ subset: [], entries });
      },
      async next({ queue }: NextInput) {
        deepFreeze(queue); // the loop must not edit the list it handed over
        calls.queues.push(queue.map((e) => e.group.id));
        const [head, ...rest] = queue;
        const { bound: _b, ...exact } = head;
        // the head's "exact" score: lower than every bound, so the report re-sorts it last
        const entry = { ...exact, score: head.score / 100 };
        return deepFreeze({ entry, rest, finished: [{ group: head.group.id, score: entry.score }] });
      },
    };
    return { ranker, calls };
  }

  it('the loop reverts in the ranker order and records its ranking as given', async () => {
    const { ranker, calls } = ascending();
    const b = new FakeBackend(spec);
    const snaps: AaqRunState[] = [];
    const r = await runAccuracyAware(b, params, { ranker: () => ranker, checkpoint: (st) => void snaps.push(st) });
    const pot = await runAccuracyAware(new FakeBackend(spec), params);
    expect(pot.history.map((h) => h.group)).toEqual([gid(3), gid(2), gid(1), gid(0)]);
    expect(r.history.map((h) => [h.group, h.accepted, h.reranked])).toEqual([
      [gid(0), true, false],
      [gid(1), true, false],
      [gid(2), true, false],
      [gid(3), true, false],
    ]);
    expect(r.status).toBe('met');
    expect(r.reverted.map((x) => x.group)).toEqual([gid(0), gid(1), gid(2), gid(3)]);
    // one ranking, no candidate evaluated; `next` got back exactly the rest it returned
    expect(calls.rank).toBe(1);
    expect(b.subsetQuantEvals()).toHaveLength(0);
    const ids = [0, 1, 2, 3, 4].map(gid);
    expect(calls.queues).toEqual([ids, ids.slice(1), ids.slice(2), ids.slice(3)]);

    // Recorded as ranked; the finished scores beside it; the report combines both.
    const last = snaps.at(-1)!;
    expect(last.rankings[0].scores).toEqual(ids.map((g, i) => ({ group: g, score: 1 - i / 10, bound: true })));
    expect(last.finishedScores).toEqual(ids.slice(0, 4).map((g, i) => ({ ranking: 0, group: g, score: (1 - i / 10) / 100 })));
    expect(r.rankings[0].scores).toEqual([{ group: gid(4), score: 0.6, bound: true }, ...ids.slice(0, 4).map((g, i) => ({ group: g, score: (1 - i / 10) / 100 }))]);
    expect(reportedRankings(last)).toEqual(r.rankings);
    expectRecordsUnchanged(snaps);
  });

  it('a resumed run asks the same ranker and ends the same', async () => {
    const snaps: AaqRunState[] = [];
    const full = await runAccuracyAware(new FakeBackend(spec), params, { ranker: () => ascending().ranker, checkpoint: (st) => void snaps.push(st) });
    const mid = snaps.find((st) => st.history.length === 2)!;
    const resumed = await runAccuracyAware(new FakeBackend(spec), params, { ranker: () => ascending().ranker, resumeFrom: mid });
    expect(resumed.history).toEqual(full.history);
    expect(resumed.rankings).toEqual(full.rankings);
  });
});

describe('lazy_ranking finishes scores without editing the recorded ranking', () => {
  // 8 samples; FP32 gets samples 5 and 6 wrong, which quantizing g1 / g0 puts right (clamped at 1).
  // g0 breaks 0, 1; g1 breaks 2; g2 breaks 3. Fully quantized: 0.5 (baseline 0.75). The samples at
  // 1 (4..7) are skipped, so g0's bound is 0.75 (exact 0.625), g1's 0.625 (0.5), g2's 0.625 (exact).
  // Popping: g0 is finished (0.625), then g2 (0.625) heads the list by its larger id and is taken.
  const spec: FakeSpec = {
    n: 8,
    groups: 3,
    metrics: [{ name: A, fp32: [1, 1, 1, 1, 1, 0, 0, 1], damage: { 0: { 0: 1, 1: 1, 6: -1 }, 1: { 2: 1, 5: -1 }, 2: { 3: 1 } } }],
  };
  const params = aaqParams({ maximal_drop: 0.125 });

  it('records the bounds, keeps the finished scores beside them, reports POT exact scores', async () => {
    const snaps: AaqRunState[] = [];
    const r = await runAccuracyAware(new BoundedFake(spec), params, { checkpoint: (st) => void snaps.push(st) });
    const pot = await runAccuracyAware(new BoundedFake(spec), { ...params, ...OFF });
    expect(r.history.map((h) => h.group)).toEqual([gid(2)]);
    expect(pot.history.map((h) => h.group)).toEqual([gid(2)]);
    expect(r.status).toBe('met');
    const last = snaps.at(-1)!;
    expect(last.rankings[0].scores).toEqual([
      { group: gid(0), score: 0.75, bound: true },
      { group: gid(2), score: 0.625, bound: true },
      { group: gid(1), score: 0.625, bound: true },
    ]);
    expect(last.finishedScores).toEqual([
      { ranking: 0, group: gid(0), score: 0.625 },
      { ranking: 0, group: gid(2), score: 0.625 },
    ]);
    expect(r.rankings[0].scores).toEqual([
      { group: gid(2), score: 0.625 },
      { group: gid(1), score: 0.625, bound: true },
      { group: gid(0), score: 0.625 },
    ]);
    expect(pot.rankings[0].scores).toEqual([
      { group: gid(2), score: 0.625 },
      { group: gid(0), score: 0.625 },
      { group: gid(1), score: 0.5 },
    ]);
    // 4 samples skipped per group, finished for g0 and g2: g1's 4 never needed
    expect(r.savings.lazy_ranking).toBe(4);
    expectRecordsUnchanged(snaps);
  });
});
