// The two Node engines (onnxruntime-node native, onnxruntime-web WASM in Node) on the fixture
// models: loading, batch 1 vs batch 8, native vs wasm agreement, session counting, fetches, and
// TensorData ⇄ ort.Tensor conversion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from 'onnxruntime-common';
import { OrtEngine, fromOrtTensor, toOrtTensor, type OrtSessionInfo } from '../../src/core/engine/ort-common';
import { runDataset } from '../../src/core/engine/runner';
import { createNodeEngine } from '../../src/node/engines';
import type { TensorData } from '../../src/core/types';
import { MODELS, RandomDataset, loadFixture, maxAbsDiff, multiOutputModel } from './engines-helpers';

describe('TensorData ⇄ ort.Tensor', () => {
  const ort = { Tensor } as unknown as Parameters<typeof toOrtTensor>[0];

  it('round-trips int64, bool, float16 (and the rest) without copying', () => {
    const cases: TensorData[] = [
      { type: 'int64', dims: [2, 2], data: BigInt64Array.from([1n, -2n, 2n ** 40n, -(2n ** 62n)]) },
      { type: 'uint64', dims: [2], data: BigUint64Array.from([0n, 2n ** 63n]) },
      { type: 'bool', dims: [3], data: Uint8Array.from([1, 0, 1]) },
      { type: 'float16', dims: [1, 3], data: Uint16Array.from([0x3c00, 0xc000, 0x7bff]) }, // 1, -2, 65504
      { type: 'float32', dims: [2], data: Float32Array.from([1.5, -0]) },
      { type: 'float64', dims: [1], data: Float64Array.from([Math.PI]) },
      { type: 'int8', dims: [2], data: Int8Array.from([-128, 127]) },
      { type: 'uint8', dims: [2], data: Uint8Array.from([0, 255]) },
      { type: 'int16', dims: [1], data: Int16Array.from([-300]) },
      { type: 'uint16', dims: [1], data: Uint16Array.from([65535]) },
      { type: 'int32', dims: [1], data: Int32Array.from([-5]) },
      { type: 'uint32', dims: [1], data: Uint32Array.from([4e9]) },
      { type: 'string', dims: [2], data: ['a', 'bc'] },
      { type: 'float32', dims: [0, 3], data: new Float32Array(0) },
    ];
    for (const c of cases) {
      const t = toOrtTensor(ort, c);
      expect(t.type).toBe(c.type);
      expect(t.dims).toEqual(c.dims);
      const back = fromOrtTensor(t);
      expect(back.type).toBe(c.type);
      expect(back.dims).toEqual(c.dims);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(c.data as ArrayLike<unknown>));
      if (c.type !== 'string') expect(back.data.constructor).toBe(c.data.constructor);
    }
  });

  it('rejects data that does not match the dtype or dims', () => {
    expect(() => toOrtTensor(ort, { type: 'int64', dims: [2], data: new Int32Array(2) })).toThrow(/int64 needs a BigInt64Array/);
    expect(() => toOrtTensor(ort, { type: 'bool', dims: [2], data: new Int8Array(2) })).toThrow(/bool needs a Uint8Array/);
    expect(() => toOrtTensor(ort, { type: 'float16', dims: [2], data: new Float32Array(2) })).toThrow(/float16 needs a Uint16Array/);
    expect(() => toOrtTensor(ort, { type: 'float32', dims: [2, 2], data: new Float32Array(3) }, 'input x')).toThrow(/input x: dims \[2,2\] need 4 elements, data has 3/);
  });
});

const KINDS = ['native', 'wasm'] as const;

describe('Node engines on the fixture models', () => {
  const engines: Record<(typeof KINDS)[number], OrtEngine> = {} as never;
  /** outputs[model][kind] = per-sample outputs at batch 1 for samples 0..9 */
  const outputs: Record<string, Record<string, TensorData[]>> = {};

  beforeAll(async () => {
    engines.native = await createNodeEngine('native', { threads: 2 });
    engines.wasm = await createNodeEngine('wasm');
  });
  afterAll(async () => {
    await Promise.all(Object.values(engines).map((e) => e?.dispose()));
  });

  it('creates the right back ends', () => {
    expect(engines.native.backend).toBe('native');
    expect(engines.wasm.backend).toBe('wasm');
    expect(engines.native.sessionsCreated).toBe(0);
    expect(engines.native.label).toMatch(/onnxruntime-node [\d.]+/);
    expect(engines.wasm.label).toMatch(/onnxruntime-web [\d.]+ wasm/);
  });

  for (const m of MODELS) {
    for (const kind of KINDS) {
      it(`${kind}: ${m.file} loads, batch 8 = batch 1 per sample`, async () => {
        const engine = engines[kind];
        const before = engine.sessionsCreated;
        const s = (await engine.createSession(loadFixture(m.file))) as OrtSessionInfo;
        expect(engine.sessionsCreated).toBe(before + 1);
        expect(s.inputNames).toEqual([m.input]);
        expect(s.outputNames).toEqual([m.output]);
        expect(typeof s.inputInfo[0].shape?.[0]).toBe('string'); // free batch dim

        const ds = new RandomDataset(10, m.sampleShape, 7);
        const idx = [...Array(10).keys()];
        const opts = { inputName: m.input, outputName: m.output };
        const b1 = await runDataset(engine, s, ds, idx, { ...opts, batchSize: 1 });
        const b8 = await runDataset(engine, s, ds, idx, { ...opts, batchSize: 8 });
        expect(b1.runs).toBe(10);
        expect(b8.runs).toBe(2); // 8 + 2
        expect(b8.batchSize).toBe(8);
        expect(b1.inferences + b8.inferences).toBe(20);
        expect(b8.labels).toEqual(idx.map((i) => i % 10));
        for (let i = 0; i < 10; i++) {
          expect(b1.outputs[i].dims).toEqual([1, m.classes]);
          expect(b8.outputs[i].dims).toEqual([1, m.classes]);
          expect(maxAbsDiff(b1.outputs[i], b8.outputs[i])).toBeLessThanOrEqual(1e-5);
        }
        (outputs[m.file] ??= {})[kind] = b1.outputs;
        await engine.release(s);
        expect(engine.openSessions).toBe(0);
        await expect(engine.run(s, {})).rejects.toThrow(/session \d+ is not open/);
      });
    }

    it(`native and wasm agree on ${m.file} within 1e-4`, () => {
      const o = outputs[m.file];
      if (!o?.native || !o?.wasm) return expect.fail('an engine failed on this model (see above)');
      let worst = 0;
      for (let i = 0; i < o.native.length; i++) worst = Math.max(worst, maxAbsDiff(o.native[i], o.wasm[i]));
      console.log(`${m.file}: max |native − wasm| = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1e-4);
    });
  }

  it('counts sessions: one per createSession, 4 models each', () => {
    expect(engines.native.sessionsCreated).toBe(MODELS.length);
    expect(engines.wasm.sessionsCreated).toBe(MODELS.length);
  });

  for (const kind of KINDS) {
    it(`${kind}: fetches only the asked outputs; int64/bool/float16 through the runtime`, async () => {
      const engine = engines[kind];
      const s = await engine.createSession(multiOutputModel());
      expect(s.outputNames).toEqual(['neg', 'relu', 'i64', 'pos', 'half', 'notb']);
      const feeds: Record<string, TensorData> = {
        x: { type: 'float32', dims: [2, 4], data: Float32Array.from([-2, -0.5, 0, 1, 2.5, 3, -4, 65504]) },
        b: { type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
      };
      const one = await engine.run(s, feeds, ['relu']);
      expect(Object.keys(one)).toEqual(['relu']);
      expect(Array.from(one.relu.data as Float32Array)).toEqual([0, 0, 0, 1, 2.5, 3, 0, 65504]);

      const r = await engine.run(s, feeds, ['i64', 'pos', 'half', 'notb']);
      expect(Object.keys(r).sort()).toEqual(['half', 'i64', 'notb', 'pos']);
      expect(r.i64.type).toBe('int64');
      expect(Array.from(r.i64.data as BigInt64Array)).toEqual([-2n, 0n, 0n, 1n, 2n, 3n, -4n, 65504n]);
      expect(r.pos.type).toBe('bool');
      expect(r.pos.data).toBeInstanceOf(Uint8Array);
      expect(Array.from(r.pos.data as Uint8Array)).toEqual([0, 0, 0, 1, 1, 1, 0, 1]);
      expect(r.half.type).toBe('float16');
      expect(r.half.data).toBeInstanceOf(Uint16Array);
      // -2, -0.5, 0, 1, 2.5, 3, -4, 65504 in IEEE half bits
      expect(Array.from(r.half.data as Uint16Array)).toEqual([0xc000, 0xb800, 0, 0x3c00, 0x4100, 0x4200, 0xc400, 0x7bff]);
      expect(Array.from(r.notb.data as Uint8Array)).toEqual([0, 1]);
      expect(r.notb.dims).toEqual([2]);

      const all = await engine.run(s, feeds);
      expect(Object.keys(all).sort()).toEqual(['half', 'i64', 'neg', 'notb', 'pos', 'relu']);
      await expect(engine.run(s, feeds, ['nope'])).rejects.toThrow(/unknown output\(s\) nope/);
      await engine.release(s);
    });
  }

  it('reports a model that cannot load as a clear error, without counting a session', async () => {
    const e = engines.native;
    const before = e.sessionsCreated;
    await expect(e.createSession(new Uint8Array([1, 2, 3, 4]))).rejects.toThrow(/cannot create an inference session/);
    expect(e.sessionsCreated).toBe(before);
  });
});
