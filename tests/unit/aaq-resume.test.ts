// Resumability (every checkpoint resumes to the identical result) and the two POT-flaw fixes.
import { describe, expect, it } from 'vitest';
import { runAccuracyAware, type AaqRunState } from '../../src/core/algorithms/accuracy-aware';
import type { AccuracyAwareParams } from '../../src/core/config/types';
import { QuantizeError } from '../../src/core/types';
import { FakeBackend, gid, ones, rows, type FakeSpec } from './helpers/fake-backend';
import { stepBackParams, stepBackSpec, aaqParams } from './helpers/aaq-scenarios';

const A = 'accuracy@top1';

async function everyCheckpointResumes(spec: () => FakeSpec, params: AccuracyAwareParams) {
  const checkpoints: AaqRunState[] = [];
  const callsAt: number[] = [];
  const full = new FakeBackend(spec());
  const ref = await runAccuracyAware(full, params, {
    checkpoint: (s) => {
      checkpoints.push(s);
      callsAt.push(full.calls.length);
    },
  });
  expect(checkpoints.length).toBeGreaterThan(3);
  expect(checkpoints[checkpoints.length - 1].phase).toBe('done');
  for (const [i, cp] of checkpoints.entries()) {
    const stored = JSON.parse(JSON.stringify(cp)) as AaqRunState; // as a snapshot store would
    const b = new FakeBackend(spec());
    const res = await runAccuracyAware(b, params, { resumeFrom: stored });
    expect(res, `resumed from checkpoint ${i} (${cp.phase})`).toEqual(ref);
    // exactly the remaining work: nothing done before the checkpoint is redone
    expect(b.calls).toEqual(full.calls.slice(callsAt[i]));
  }
  return { ref, checkpoints, full };
}

describe('resume', () => {
  it('step-back model: every checkpoint (baseline, quantized eval, each ranking, each iteration)', async () => {
    const { checkpoints, ref } = await everyCheckpointResumes(() => stepBackSpec(), stepBackParams());
    expect(checkpoints.map((c) => c.phase)).toEqual([
      'quantize', // after baseline
      'mixed', // after quantized eval
      'fp32-subset',
      'tuning',
      'rank',
      'iterate', // after initial ranking
      'iterate',
      'rank', // after rollback
      'iterate',
      'iterate',
      'iterate',
      'done',
    ]);
    expect(ref.status).toBe('all-reverted');
  });

  it('baseline values + mixed preset + tuning: every checkpoint', async () => {
    const spec = (): FakeSpec => ({
      n: 32,
      groups: 5,
      metrics: [
        { name: A, fp32: ones(32), damage: rows({ 0: [0, 1, 2], 1: [3, 4], 2: [5, 9, 11], 3: [13], 4: [20, 21, 22, 23] }) },
        { name: 'accuracy@top5', fp32: ones(32), damage: rows({ 1: [2, 7, 30], 3: [16, 17], 4: [1] }) },
      ],
      factor: (p) => (p.preset === 'mixed' ? 0.75 : 1) * (p.use_fast_bias ? 1 : 0.875) * (p.activations.range_estimator?.max?.aggregator === 'max' ? 0.5 : 1),
    });
    const params = aaqParams({
      metrics: [
        { name: A, baseline_value: 1 },
        { name: 'accuracy@top5', baseline_value: 1 },
      ],
      convert_to_mixed_preset: true,
      tune_hyperparams: true,
      maximal_drop: 0.035,
      ranking_subset_size: 6,
      seed: 7,
      return_best: true,
    });
    const { ref, checkpoints } = await everyCheckpointResumes(spec, params);
    expect(checkpoints.filter((c) => c.phase === 'tuning').length).toBeGreaterThanOrEqual(12);
    expect(ref.tuning!.runs).toHaveLength(12);
    expect(ref.mixed).not.toBeNull();
    expect(ref.history.length).toBeGreaterThan(0);
    expect(ref.status).toBe('met');
    expect(ref.selected.best).toBe(true);
  });

  it('refuses a snapshot taken with other parameters or data', async () => {
    const checkpoints: AaqRunState[] = [];
    await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams(), { checkpoint: (s) => void checkpoints.push(s) });
    const cp = checkpoints[5];
    await expect(runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams({ maximal_drop: 0.1 }), { resumeFrom: cp })).rejects.toThrow(QuantizeError);
    await expect(runAccuracyAware(new FakeBackend({ ...stepBackSpec(), n: 8 }), stepBackParams(), { resumeFrom: cp })).rejects.toThrow(/validation samples/);
  });

  it('a resumed run continues the work instead of repeating it', async () => {
    const checkpoints: AaqRunState[] = [];
    await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams(), { checkpoint: (s) => void checkpoints.push(s) });
    const afterRollback = checkpoints.findIndex((c) => c.phase === 'rank' && c.loop !== null);
    const b = new FakeBackend(stepBackSpec());
    await runAccuracyAware(b, stepBackParams(), { resumeFrom: checkpoints[afterRollback] });
    // one ranking of 3 groups + 3 iterations; no FP32, no quantization
    expect(b.fp32Evals()).toHaveLength(0);
    expect(b.quantizeCalls()).toHaveLength(0);
    expect(b.subsetQuantEvals()).toHaveLength(3);
    expect(b.fullQuantEvals()).toHaveLength(3);
  });
});

describe('POT flaw fixes (off by default)', () => {
  it('exclude_rolled_back: a rolled-back group is never retried', async () => {
    const pot = await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams());
    const fixed = await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams({ exclude_rolled_back: true }));
    expect(pot.options).toEqual({ return_best: false, exclude_rolled_back: false });
    expect(fixed.options).toEqual({ return_best: false, exclude_rolled_back: true });
    expect(pot.history.map((h) => h.group)).toEqual([gid(1), gid(0), gid(0), gid(3), gid(2)]);
    expect(fixed.history.map((h) => [h.group, h.drop[A], h.rolledBack])).toEqual([
      [gid(1), 0.3125, false],
      [gid(0), 0.375, true],
      [gid(3), 0.1875, false],
      [gid(2), -0.0625, false],
    ]);
    expect(fixed.rankings[1].scores.map((s) => s.group)).toEqual([gid(3), gid(2)]);
    expect(fixed.status).toBe('met');
    expect(pot.status).toBe('all-reverted');
    expect(fixed.state.enabled).toEqual(['a:t00', 'w:t00']); // g0 stays quantized
    expect(fixed.messages).toEqual(['3 out of 4 layers have been reverted back to the floating-point precision: op01, op03, op02']);
  });

  it('return_best: the lowest drop seen instead of the last state', async () => {
    const last = await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams({ max_iter_num: 4 }));
    expect(last.status).toBe('max-iter');
    expect(last.selected).toEqual({ source: 'iteration', iteration: 4, best: false });
    expect(last.state.enabled).toEqual(['a:t02', 'w:t02']);
    expect(last.drop[A]).toBe(0.25);

    // quantized (0.25) and iteration 4 (0.25) tie; the earlier one wins
    const best = await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams({ max_iter_num: 4, return_best: true }));
    expect(best.status).toBe('max-iter');
    expect(best.history).toEqual(last.history);
    expect(best.selected).toEqual({ source: 'quantized', iteration: 0, best: true });
    expect(best.state.enabled).toHaveLength(8);
    expect(best.reverted).toEqual([]);
    expect(best.final[A]).toBe(0.75);
    expect(best.messages[2]).toBe('0 out of 4 layers have been reverted back to the floating-point precision: ');

    // with a strictly better intermediate state: iteration 3 of exclude_rolled_back (0.1875) at max_iter 3
    const mid = await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams({ max_iter_num: 3, return_best: true, exclude_rolled_back: true }));
    expect(mid.selected).toEqual({ source: 'iteration', iteration: 3, best: true });
    expect(mid.drop[A]).toBe(0.1875);
    expect(mid.reverted.map((x) => x.group)).toEqual([gid(1), gid(3)]);
  });

  it('return_best prefers a state that met the target', async () => {
    const r = await runAccuracyAware(new FakeBackend(stepBackSpec()), stepBackParams({ return_best: true, exclude_rolled_back: true }));
    expect(r.status).toBe('met');
    expect(r.selected).toEqual({ source: 'iteration', iteration: 4, best: true });
    expect(r.drop[A]).toBe(-0.0625);
  });
});
