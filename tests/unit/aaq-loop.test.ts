// POT's greedy state machine, driven by the scripted fake backend (hand-computed expectations).
import { describe, expect, it } from 'vitest';
import { runAccuracyAware } from '../../src/core/algorithms/accuracy-aware';
import { MSG_MAX_ITER, MSG_NOT_ACHIEVED } from '../../src/core/algorithms/aaq-context';
import { FakeBackend, gid, ones, rows } from './helpers/fake-backend';
import { aaqParams, stepBack, stepBackParams } from './helpers/aaq-scenarios';

const A = 'accuracy@top1';
const trace = (r: Awaited<ReturnType<typeof runAccuracyAware>>) => r.history.map((h) => [h.group, h.drop[A], h.accepted, h.rolledBack, h.reranked]);

/** 8 samples, FP32 = 1, group 0 breaks sample 0; groups 1, 2 are harmless. */
const oneBad = () => new FakeBackend({ n: 8, groups: 3, metrics: [{ name: A, fp32: ones(8), damage: rows({ 0: [0] }) }] });

describe('stop test', () => {
  it('drop exactly equal to maximal_drop stops right after quantization (≤)', async () => {
    const b = oneBad();
    const r = await runAccuracyAware(b, aaqParams({ maximal_drop: 0.125 }));
    expect(r.status).toBe('met');
    expect(r.drop[A]).toBe(0.125);
    expect(r.history).toEqual([]);
    expect(r.rankings).toEqual([]);
    expect(r.messages).toEqual([]);
    expect(b.quantizeCalls()).toHaveLength(1);
    expect(b.evalCalls().map((c) => [c.fp32, c.indices])).toEqual([
      [true, null],
      [false, null],
    ]);
    expect(r.state.enabled).toHaveLength(6);
  });

  it('just above the threshold: rank once, revert the damaging group, stop', async () => {
    const b = oneBad();
    const r = await runAccuracyAware(b, aaqParams({ maximal_drop: 0.12 }));
    expect(r.status).toBe('met');
    expect(r.rankings).toHaveLength(1);
    expect(r.rankings[0].subsetSize).toBe(8); // min(N, 300)
    expect(r.rankings[0].scores).toEqual([
      { group: gid(0), score: 1 },
      { group: gid(2), score: 0.875 }, // tie → larger id first
      { group: gid(1), score: 0.875 },
    ]);
    expect(r.reverted).toEqual([{ group: gid(0), ops: ['op00'] }]);
    expect(r.final[A]).toBe(1);
    expect(r.messages).toEqual(['1 out of 3 layers have been reverted back to the floating-point precision: op00']);
    expect(r.groupsTotal).toBe(3);
    expect(r.quantizedOpsTotal).toBe(3);
  });

  it('relative drop: threshold = baseline × maximal_drop', async () => {
    // baseline 0.5 (8 of 16 correct); group 0 breaks samples 0..2 → drop 3/16 = 0.1875
    const spec = {
      n: 16,
      groups: 2,
      metrics: [{ name: A, fp32: [...ones(8), ...Array(8).fill(0)], damage: rows({ 0: [0, 1, 2] }) }],
    };
    const abs = await runAccuracyAware(new FakeBackend(spec), aaqParams({ maximal_drop: 0.2 }));
    expect(abs.thresholds[A]).toBe(0.2);
    expect(abs.status).toBe('met');
    expect(abs.history).toHaveLength(0);
    const rel = await runAccuracyAware(new FakeBackend(spec), aaqParams({ maximal_drop: 0.2, drop_type: 'relative' }));
    expect(rel.thresholds[A]).toBe(0.1);
    expect(rel.baseline[A]).toBe(0.5);
    expect(rel.quantized[A]).toBe(0.3125);
    expect(rel.status).toBe('met');
    expect(rel.reverted.map((x) => x.group)).toEqual([gid(0)]);
    // exactly at the relative threshold (0.375 × 0.5 = 0.1875) also stops
    const eq = await runAccuracyAware(new FakeBackend(spec), aaqParams({ maximal_drop: 0.375, drop_type: 'relative' }));
    expect(eq.status).toBe('met');
    expect(eq.history).toHaveLength(0);
  });
});

describe('maximal_drop up to float noise (DROP_TOLERANCE)', () => {
  // 100 samples, FP32 all correct: one sample lost gives 1 − 0.99 = 0.010000000000000009, not 0.01.
  const noisy = (damage: Record<number, number[]>, groups: number) => new FakeBackend({ n: 100, groups, metrics: [{ name: A, fp32: ones(100), damage: rows(damage) }] });

  it('a quantized drop equal to maximal_drop up to float noise meets it', async () => {
    const r = await runAccuracyAware(noisy({ 0: [0] }, 2), aaqParams({ maximal_drop: 0.01 }));
    expect(r.drop[A]).toBe(0.010000000000000009);
    expect(r.drop[A]).toBeGreaterThan(0.01);
    expect(r.status).toBe('met');
    expect(r.history).toEqual([]);
  });

  it('an iteration drop equal to maximal_drop up to float noise is accepted and ends the search', async () => {
    // group 0 costs 2 samples, group 1 one: after reverting group 0 the drop is 1 − 0.99
    const r = await runAccuracyAware(noisy({ 0: [0, 1], 1: [2] }, 2), aaqParams({ maximal_drop: 0.01 }));
    expect(r.status).toBe('met');
    expect(r.history.map((h) => [h.group, h.drop[A], h.accepted])).toEqual([[gid(0), 0.010000000000000009, true]]);
    expect(r.reverted.map((x) => x.group)).toEqual([gid(0)]);
  });

  it('a drop above the limit by more than float noise is not met', async () => {
    const r = await runAccuracyAware(noisy({ 0: [0] }, 2), aaqParams({ maximal_drop: 0.00999 }));
    expect(r.history.length).toBeGreaterThan(0);
  });
});

describe('step back and rollback', () => {
  it('POT default: first increase tolerated, second rolled back, re-rank, rolled-back group retried and accepted', async () => {
    const b = stepBack();
    const r = await runAccuracyAware(b, stepBackParams());
    expect(trace(r)).toEqual([
      [gid(1), 0.3125, true, false, false], // increase tolerated (is_step_back starts true)
      [gid(0), 0.375, false, true, true], // second increase: roll back, re-rank
      [gid(0), 0.375, true, false, false], // retried: new ≤ accuracy_drop (quirk) → accepted
      [gid(3), 0.25, true, false, false],
      [gid(2), 0, true, false, false], // no quantizer left → stop before the success test
    ]);
    expect(r.status).toBe('all-reverted');
    expect(r.messages).toEqual([MSG_NOT_ACHIEVED]);
    // ranking only initially and after the rollback
    expect(r.rankings.map((x) => [x.afterIteration, x.subset])).toEqual([
      [0, [0, 1, 2, 3]],
      [2, [0, 1, 14, 15]],
    ]);
    expect(r.rankings[0].scores.map((s) => s.group)).toEqual([gid(1), gid(0), gid(3), gid(2)]);
    expect(r.rankings[1].scores).toEqual([
      { group: gid(0), score: 0.5 },
      { group: gid(3), score: 0 },
      { group: gid(2), score: -0.5 },
    ]);
    // cost: 4 + 3 ranking evaluations of 4 samples; one full pass per iteration; FP32 once
    expect(b.subsetQuantEvals().map((c) => c.indices!.length)).toEqual([4, 4, 4, 4, 4, 4, 4]);
    expect(b.fullQuantEvals()).toHaveLength(1 + 5);
    expect(b.fp32Evals()).toHaveLength(1);
    // the re-ranking ran on the rolled-back state (g1 off, g0 on)
    expect(b.subsetQuantEvals()[4].enabled).toEqual(['a:t02', 'w:t02', 'a:t03', 'w:t03']);
  });

  it('without use_prev_if_drop_increase the second increase is kept and the list re-ranked', async () => {
    const b = stepBack();
    const r = await runAccuracyAware(b, stepBackParams({ use_prev_if_drop_increase: false }));
    expect(trace(r)).toEqual([
      [gid(1), 0.3125, true, false, false],
      [gid(0), 0.375, true, false, true],
      [gid(3), 0.25, true, false, false],
      [gid(2), 0, true, false, false],
    ]);
    expect(r.rankings[1].subset).toEqual([6, 7, 14, 15]);
    expect(r.rankings[1].scores).toEqual([
      { group: gid(3), score: 0.5 },
      { group: gid(2), score: 0.5 },
    ]);
    expect(r.status).toBe('all-reverted');
  });

  it('max_iter_num bounds the loop; no useless ranking after the last iteration', async () => {
    const b = stepBack();
    const r = await runAccuracyAware(b, stepBackParams({ max_iter_num: 2 }));
    expect(r.status).toBe('max-iter');
    expect(r.history).toHaveLength(2);
    expect(r.history[1].rolledBack).toBe(true);
    expect(r.rankings).toHaveLength(1);
    expect(r.reverted).toEqual([{ group: gid(1), ops: ['op01'] }]);
    expect(r.final[A]).toBe(1 - 5 / 16);
    expect(r.messages).toEqual([MSG_NOT_ACHIEVED, MSG_MAX_ITER, '1 out of 4 layers have been reverted back to the floating-point precision: op01']);
    const zero = await runAccuracyAware(stepBack(), stepBackParams({ max_iter_num: 0 }));
    expect(zero.status).toBe('max-iter');
    expect(zero.history).toHaveLength(0);
    expect(zero.rankings).toHaveLength(0);
  });

  it('a lower-better metric does not invert the search', async () => {
    const hb = await runAccuracyAware(stepBack('higher-better'), stepBackParams());
    const lb = await runAccuracyAware(stepBack('lower-better'), stepBackParams());
    expect(lb.history.map((h) => [h.group, h.drop[A], h.accepted, h.rolledBack])).toEqual(hb.history.map((h) => [h.group, h.drop[A], h.accepted, h.rolledBack]));
    expect(lb.rankings.map((x) => x.subset)).toEqual(hb.rankings.map((x) => x.subset));
    expect(lb.quantized[A]).toBe(0.25); // error rate went up from 0 …
    expect(lb.drop[A]).toBe(0); // … and the drop is measured as a degradation
    expect(lb.history[0].drop[A]).toBeGreaterThan(0);
  });
});

describe('termination', () => {
  it('"no quantizer left" is checked before success', async () => {
    const b = new FakeBackend({ n: 8, groups: 1, metrics: [{ name: A, fp32: ones(8), damage: rows({ 0: [0] }) }] });
    const r = await runAccuracyAware(b, aaqParams({ maximal_drop: 0.05 }));
    expect(r.drop[A]).toBe(0); // would meet the target…
    expect(r.status).toBe('all-reverted'); // …but POT stops on "all FQ removed" first
    expect(r.messages).toEqual([MSG_NOT_ACHIEVED]);
    expect(r.state.enabled).toEqual([]);
  });

  it('empty ranking → "could not achieve" and the current model is returned', async () => {
    const b = new FakeBackend({
      n: 8,
      groups: 1,
      orphan: true,
      metrics: [{ name: A, fp32: ones(8), damage: rows({ 0: [0] }), orphanDamage: { 1: 1 } }],
    });
    const r = await runAccuracyAware(b, aaqParams({ maximal_drop: 0.1 }));
    expect(r.status).toBe('not-met');
    expect(r.history.map((h) => [h.group, h.drop[A], h.accepted])).toEqual([[gid(0), 0.125, true]]);
    expect(r.messages).toEqual([MSG_NOT_ACHIEVED]);
    expect(r.state.enabled).toEqual(['a:orphan']);
    expect(r.reverted).toEqual([{ group: gid(0), ops: ['op00'] }]);
  });
});

describe('multiple metrics', () => {
  it('optimises the largest normalized excess, switches metric when it is within threshold, re-ranks', async () => {
    const b = new FakeBackend({
      n: 16,
      groups: 3,
      metrics: [
        { name: A, fp32: ones(16), damage: rows({ 0: [0, 1, 2, 3] }) },
        { name: 'accuracy@top5', fp32: ones(16), damage: rows({ 1: [4, 5], 2: [6] }) },
      ],
    });
    const r = await runAccuracyAware(b, aaqParams({ maximal_drop: 0.0625, ranking_subset_size: 4 }));
    expect(r.quantized).toEqual({ [A]: 0.75, 'accuracy@top5': 0.8125 });
    expect(r.history.map((h) => [h.metric, h.group, h.switchedTo ?? null, h.reranked])).toEqual([
      [A, gid(0), 'accuracy@top5', true],
      ['accuracy@top5', gid(1), null, false],
    ]);
    expect(r.rankings.map((x) => [x.metric, x.subset])).toEqual([
      [A, [0, 1, 2, 3]],
      ['accuracy@top5', [4, 5, 6, 15]],
    ]);
    expect(r.rankings[1].scores).toEqual([
      { group: gid(1), score: 0.75 },
      { group: gid(2), score: 0.5 },
    ]);
    expect(r.status).toBe('met');
    expect(r.drop).toEqual({ [A]: 0, 'accuracy@top5': 0.0625 });
    expect(r.messages).toEqual(['2 out of 3 layers have been reverted back to the floating-point precision: op00, op01']);
  });
});
