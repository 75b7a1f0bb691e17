// runDataset / Evaluator: batch modes (dynamic, fixed with padding, fallback to batch 1),
// extra feeds and outputs, prefetch, abort, progress. Runs on the native engine with tiny models.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrtEngine } from '../../src/core/engine/ort-common';
import { Evaluator, batchModeFromShape, runDataset, splitBatch } from '../../src/core/engine/runner';
import { createNodeEngine } from '../../src/node/engines';
import type { Engine, SessionInfo, TensorData } from '../../src/core/types';
import { RandomDataset, doubleModel, liarModel, multiOutputModel } from './engines-helpers';

let engine: OrtEngine;
beforeAll(async () => {
  engine = await createNodeEngine('native', { threads: 1 });
});
afterAll(async () => engine?.dispose());

const idx = (n: number) => [...Array(n).keys()];

async function expectDoubled(ds: RandomDataset, outs: TensorData[], indices: number[]) {
  expect(outs.length).toBe(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const x = (await ds.get(indices[k])).input;
    expect(outs[k].dims).toEqual([1, 4]);
    expect(Array.from(outs[k].data as Float32Array)).toEqual(Array.from(x, (v) => Math.fround(v * 2)));
  }
}

describe('runDataset', () => {
  it('batch mode from a shape', () => {
    expect(batchModeFromShape(['N', 3])).toEqual({ kind: 'dynamic' });
    expect(batchModeFromShape([-1, 3])).toEqual({ kind: 'dynamic' });
    expect(batchModeFromShape([4, 3])).toEqual({ kind: 'fixed', size: 4 });
    expect(batchModeFromShape(undefined)).toBeUndefined();
  });

  it('splits a batch output into [1,…] copies', () => {
    const t: TensorData = { type: 'float32', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const parts = splitBatch(t);
    expect(parts.map((p) => Array.from(p.data as Float32Array))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(parts[1].dims).toEqual([1, 3]);
    expect((parts[0].data as Float32Array).buffer).not.toBe((t.data as Float32Array).buffer);
  });

  it('dynamic batch, uneven last batch, indices in any order, progress', async () => {
    const s = await engine.createSession(doubleModel(['N', 4]));
    const ds = new RandomDataset(50, [4], 3);
    const indices = [49, 3, 17, 0, 5, 8, 22, 31, 40, 41, 2];
    const progress: number[] = [];
    const r = await runDataset(engine, s, ds, indices, {
      inputName: 'x',
      outputName: 'y',
      batchSize: 4,
      progress: (d, t) => progress.push(d / t),
    });
    expect(r.runs).toBe(3);
    expect(r.batchSize).toBe(4);
    expect(r.inferences).toBe(11);
    expect(r.labels).toEqual(indices.map((i) => i % 10));
    expect(progress).toEqual([4 / 11, 8 / 11, 1]);
    await expectDoubled(ds, r.outputs, indices);
    await engine.release(s);
  });

  it('fixed batch 3: pads the last batch and drops the padding', async () => {
    const s = await engine.createSession(doubleModel([3, 4]));
    const ds = new RandomDataset(7, [4], 4);
    const seen: number[][] = [];
    const r = await runDataset(engine, s, ds, idx(7), {
      inputName: 'x',
      outputName: 'y',
      batchSize: 16,
      onBatch: (i, out) => {
        seen.push(i);
        expect(out.dims).toEqual([i.length, 4]);
      },
    });
    expect(r.batchSize).toBe(3);
    expect(r.runs).toBe(3);
    expect(r.inferences).toBe(7);
    expect(seen).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    await expectDoubled(ds, r.outputs, idx(7));
    await engine.release(s);
  });

  it('falls back to batch 1 when a free batch dim does not really take batches, and remembers', async () => {
    const s = await engine.createSession(liarModel());
    const ds = new RandomDataset(10, [4], 5);
    const ev = new Evaluator(engine);
    const r = await ev.run(s, ds, idx(10), { inputName: 'x', outputName: 'y', batchSize: 4 });
    expect(r.batchSize).toBe(1);
    expect(r.inferences).toBe(10);
    expect(r.runs).toBe(10); // the failed batch of 4 is not counted, then ten singles
    expect(r.outputs.map((o) => Array.from(o.data as Float32Array))).toEqual(await Promise.all(idx(10).map(async (i) => Array.from((await ds.get(i)).input))));
    expect(ev.batchMode(s)).toEqual({ kind: 'fixed', size: 1 });
    const again = await ev.run(s, ds, idx(5), { inputName: 'x', outputName: 'y', batchSize: 4 });
    expect(again.runs).toBe(5); // no failed attempt this time
    expect(ev.inferences).toBe(15);
    await engine.release(s);
  });

  it('does not fall back for a genuine error; a proven dynamic batch stays dynamic', async () => {
    const s = await engine.createSession(doubleModel(['N', 4]));
    const ev = new Evaluator(engine);
    const opts = { inputName: 'x', outputName: 'y', batchSize: 4 };
    await ev.run(s, new RandomDataset(8, [4], 6), idx(8), opts);
    expect(ev.batchMode(s)).toEqual({ kind: 'dynamic', verified: true });
    const bad = new RandomDataset(8, [5], 6); // wrong sample size for the model
    await expect(ev.run(s, bad, idx(8), opts)).rejects.toThrow(/inference failed/);
    expect(ev.batchMode(s)).toEqual({ kind: 'dynamic', verified: true });
    expect(ev.inferences).toBe(8);
    // Unproven: tries batch 1 too, then reports the genuine error.
    const s2 = await engine.createSession(doubleModel(['N', 4]));
    await expect(runDataset(engine, s2, bad, idx(8), opts)).rejects.toThrow(/inference failed/);
    await engine.release(s);
    await engine.release(s2);
  });

  it('extra feeds and extra outputs go with every batch; keepOutputs false keeps nothing', async () => {
    const s = await engine.createSession(multiOutputModel());
    const ds = new RandomDataset(6, [4], 8);
    const got: Record<string, number[]> = {};
    const r = await runDataset(engine, s, ds, idx(6), {
      inputName: 'x',
      outputName: 'neg',
      extraOutputs: ['notb', 'i64'],
      batchSize: 4,
      keepOutputs: false,
      extraFeeds: { b: { type: 'bool', dims: [2], data: Uint8Array.from([0, 1]) } },
      onBatch: (i, out, all) => {
        expect(out.dims).toEqual([i.length, 4]);
        expect(Object.keys(all).sort()).toEqual(['i64', 'neg', 'notb']);
        expect(Array.from(all.notb.data as Uint8Array)).toEqual([1, 0]);
        got[i.join(',')] = [all.i64.dims[0]];
      },
    });
    expect(r.outputs).toEqual([]);
    expect(r.inferences).toBe(6);
    expect(got).toEqual({ '0,1,2,3': [4], '4,5': [2] });
    await engine.release(s);
  });

  it('prefetches the next batch while the current one runs, and stops on abort', async () => {
    const ds = new RandomDataset(40, [4], 9, 20); // each sample read takes 20 ms
    const log: string[] = [];
    const s = await engine.createSession(doubleModel(['N', 4]));
    // An engine wrapper that logs and takes 60 ms per run.
    const slow: Engine = {
      backend: engine.backend,
      traits: engine.traits,
      label: 'slow test engine',
      name: 'slow',
      get sessionsCreated() {
        return engine.sessionsCreated;
      },
      createSession: (m) => engine.createSession(m),
      release: (x) => engine.release(x),
      dispose: async () => undefined,
      run: async (x: SessionInfo, f, o) => {
        log.push(`run@${ds.gets}`);
        await new Promise((res) => setTimeout(res, 60));
        return engine.run(x, f, o);
      },
    };
    await runDataset(slow, s, ds, idx(12), { inputName: 'x', outputName: 'y', batchSize: 4 });
    // When batch k runs, batch k+1 is already being read (gets run ahead of the runs).
    expect(log).toEqual(['run@8', 'run@12', 'run@12']);

    const ac = new AbortController();
    let batches = 0;
    await expect(
      runDataset(slow, s, ds, idx(40), {
        inputName: 'x',
        outputName: 'y',
        batchSize: 4,
        signal: ac.signal,
        onBatch: () => {
          if (++batches === 2) ac.abort();
        },
      }),
    ).rejects.toThrow(/abort/i);
    expect(batches).toBe(2);
    await engine.release(s);
  });
});
