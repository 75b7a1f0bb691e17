// Timing utilities (their logic, not timings: throughput figures belong to `npm run bench`).
import { describe, expect, it } from 'vitest';
import { runDataset } from '../../src/core/engine/runner';
import { compareEvalModes, formatMs, measureCreate, measurePass, measureSessionPerConfig, measureSwitchable, median, timeIt } from '../../bench/lib/timing';
import { createNodeEngine, type NodeEngineKind } from '../../src/node/engines';
import { MODELS, RandomDataset, doubleModel, loadFixture } from './engines-helpers';

describe('timing helpers', () => {
  it('median, timeIt, compareEvalModes', async () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    let calls = 0;
    const t = await timeIt(
      () => {
        calls++;
      },
      { repeats: 3, warmup: 2 },
    );
    expect(calls).toBe(5);
    expect(t.runsMs).toHaveLength(3);
    expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
    const c = compareEvalModes('wasm', 100, 110, 300);
    expect(c).toMatchObject({ switchableRel: 1.1, perConfigRel: 3, choice: 'switchable' });
    const d = compareEvalModes('native', 100, 350, 190, { switchableCreateMs: 50, candidates: 10 });
    expect(d.switchableMs).toBe(355);
    expect(d.choice).toBe('session-per-config');
    expect(formatMs(1234.5)).toBe('1235');
  });

  it('measures a pass, a session-per-config candidate and a switchable candidate', async () => {
    const engine = await createNodeEngine('native', { threads: 1 });
    const bytes = doubleModel(['N', 4]);
    const ds = new RandomDataset(20, [4], 1);
    const indices = [...Array(20).keys()];
    const opts = { inputName: 'x', outputName: 'y', batchSize: 8 };
    const s = await engine.createSession(bytes);
    const pass = await measurePass(engine, s, ds, indices, opts, { repeats: 3 });
    expect(pass.samples).toBe(20);
    expect(pass.batchSize).toBe(8);
    expect(pass.samplesPerSec).toBeGreaterThan(0);
    const before = engine.sessionsCreated;
    const per = await measureSessionPerConfig(
      engine,
      () => bytes,
      (x) => runDataset(engine, x, ds, indices, opts),
      {
        repeats: 3,
        warmup: 1,
      },
    );
    expect(engine.sessionsCreated - before).toBe(4);
    expect(engine.openSessions).toBe(1);
    expect(per.runs).toHaveLength(3);
    expect(per.median.totalMs).toBeGreaterThanOrEqual(per.median.evalMs);
    const reps: number[] = [];
    const sw = await measureSwitchable(
      async (rep) => {
        reps.push(rep);
        await runDataset(engine, s, ds, indices, opts);
      },
      { repeats: 2 },
    );
    expect(reps).toEqual([0, 1, 2]);
    expect(sw.runsMs).toHaveLength(2);
    const cr = await measureCreate(engine, bytes, { repeats: 2, warmup: 0 });
    expect(cr.runsMs).toHaveLength(2);
    await engine.dispose();
  });
});
