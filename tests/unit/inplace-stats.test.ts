// Issue 11: statistics reduced inside the graph (inplace-stats.ts) equal the JS collector's
// (statistics.ts) per sample: min / max / abs_max / quantiles bit for bit, means to the float64
// rounding of a reordered sum; the opset forms (axes as attribute or input, opset 9 raised to 11);
// NaN samples and rank-1 tensors handed back to the JS path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CalibrationStats, statisticsModel, type WatchRequest } from '../../src/core/quant/calibration';
import { addReducedBatch, inGraphStatistics } from '../../src/core/quant/inplace-stats';
import type { SampleStat } from '../../src/core/quant/statistics';
import { intAttr } from '../../src/core/onnx/attributes';
import { encodeModel, opsetVersion, type ModelProto } from '../../src/core/onnx/proto';
import type { Engine, TensorData } from '../../src/core/types';
import { createNodeEngine } from '../../src/node/engines';
import { buildModel } from './helpers/build-model';

const SHAPE = [3, 4, 6, 5]; // batch 3, 4 channels, 6×5

/** x → Relu → r → Flatten → f (rank 2); x → Transpose(0,2,3,1) → t (channels last). */
function model(opset: number): ModelProto {
  return buildModel({
    opset,
    inputs: { x: SHAPE },
    outputs: { f: [SHAPE[0], 120], t: [SHAPE[0], 6, 5, 4] },
    nodes: [
      { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Flatten', name: 'flat', inputs: ['r'], outputs: ['f'], attrs: [intAttr('axis', 1)] },
      { op: 'Transpose', name: 'tr', inputs: ['x'], outputs: ['t'], attrs: [{ name: 'perm', type: 7, ints: [0, 2, 3, 1] }] },
    ],
  });
}

const QS = [0, 1e-4, 1e-3, 0.02, 0.3, 0.5, 0.51, 0.97, 0.999, 0.9999, 1];
const ALL: SampleStat[] = [
  { type: 'min' },
  { type: 'max' },
  { type: 'abs_max' },
  { type: 'mean' },
  ...QS.flatMap((q): SampleStat[] => [
    { type: 'quantile', q },
    { type: 'abs_quantile', q },
  ]),
];

function requests(): WatchRequest[] {
  const per = (granularity: 'pertensor' | 'perchannel', axis: number) => ALL.map((s) => ({ ...s, granularity, axis }));
  return [
    { tensor: 'x', granularity: 'pertensor', channelAxis: 1, stats: [...per('pertensor', 1), ...per('perchannel', 1)] },
    { tensor: 'r', granularity: 'perchannel', channelAxis: 1, stats: per('perchannel', 1) },
    { tensor: 'f', granularity: 'pertensor', channelAxis: 1, stats: [...per('pertensor', 1), ...per('perchannel', 1)] },
    { tensor: 't', granularity: 'perchannel', channelAxis: -1, stats: [...per('perchannel', -1), ...per('pertensor', 1)] },
  ];
}

/** Values with ties, zeros of both signs and infinities. */
function data(seed: number, extra?: (a: Float32Array) => void): Float32Array {
  const a = new Float32Array(SHAPE.reduce((x, y) => x * y, 1));
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    a[i] = u < 0.05 ? 0 : u < 0.08 ? -0 : u < 0.12 ? 1.5 : (u - 0.5) * 7;
  }
  a[7] = Infinity;
  a[200] = -Infinity;
  extra?.(a);
  return a;
}

let engine: Engine;
beforeAll(async () => {
  engine = await createNodeEngine('native', { threads: 1 });
});
afterAll(async () => {
  await engine?.dispose();
});

async function runBoth(m: ModelProto, batches: Float32Array[]) {
  const inGraph = new CalibrationStats(requests());
  const plan = inGraphStatistics(m, inGraph)!;
  expect(plan).toBeDefined();
  const js = new CalibrationStats(requests());
  const s1 = await engine.createSession(encodeModel(plan.model));
  const s2 = await engine.createSession(encodeModel(statisticsModel(m, js.tensors)));
  const redo = new Set<string>();
  for (const b of batches) {
    const feeds: Record<string, TensorData> = { x: { type: 'float32', dims: SHAPE, data: b } };
    addReducedBatch(plan, await engine.run(s1, feeds, plan.fetch), inGraph, redo);
    const all = await engine.run(s2, feeds, js.tensors);
    for (const t of js.tensors) js.add(t, (all[t] ?? feeds[t]).data as Float32Array, (all[t] ?? feeds[t]).dims);
  }
  await engine.release(s1);
  await engine.release(s2);
  return { plan, inGraph, js, redo };
}

/** A float64 sum in another order: equal up to a few roundings (infinities and NaN alike). */
const sameMean = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= Math.abs(b) * 4e-16;

function compare(inGraph: CalibrationStats, js: CalibrationStats, skip: Set<string>) {
  let exact = 0;
  let zeros = 0;
  let means = 0;
  for (const [t, col] of js.collectors) {
    if (skip.has(t)) continue;
    expect(inGraph.shapes.get(t)).toEqual(js.shapes.get(t));
    for (const { stat } of col.requested) {
      const a = inGraph.collectors.get(t)!.values(stat);
      const b = col.values(stat);
      expect([a.samples, a.width]).toEqual([b.samples, b.width]);
      for (let i = 0; i < b.data.length; i++) {
        if (stat.type === 'mean') {
          expect(sameMean(a.data[i], b.data[i]), `${t} ${col.key(stat)} [${i}]: ${a.data[i]} vs ${b.data[i]}`).toBe(true);
          means++;
        } else {
          // the same value; a zero's sign may differ where zeros of both signs tie (JS sorts −0
          // first, TopK by position, Abs gives +0 for −0 where JS keeps −0)
          const same = a.data[i] === b.data[i] || (Number.isNaN(a.data[i]) && Number.isNaN(b.data[i]));
          expect(same, `${t} ${col.key(stat)} [${i}]: ${a.data[i]} vs ${b.data[i]}`).toBe(true);
          if (Object.is(a.data[i], b.data[i])) exact++;
          else zeros++;
        }
      }
    }
  }
  return { exact, zeros, means };
}

describe('statistics reduced in the graph', () => {
  for (const opset of [9, 11, 13, 18]) {
    it(`equal the JS collector's per-sample values (opset ${opset})`, async () => {
      const { plan, inGraph, js, redo } = await runBoth(model(opset), [data(1), data(2), data(3)]);
      expect(opsetVersion(plan.model)).toBe(Math.max(opset, 11));
      expect(plan.raw).toEqual([]);
      expect([...redo]).toEqual([]);
      const n = compare(inGraph, js, new Set());
      console.log(`opset ${opset}: ${n.exact} values bit for bit, ${n.zeros} zeros of the other sign, ${n.means} means`);
      expect(n.exact).toBeGreaterThan(1000);
      expect(n.means).toBeGreaterThan(0);
    });
  }

  it('hands a tensor with a NaN sample back to the JS path', async () => {
    const { inGraph, js, redo } = await runBoth(model(13), [
      data(4),
      data(5, (a) => {
        a[130] = NaN; // sample 1 of the batch, channel 0 (Relu may turn it into a 0)
      }),
    ]);
    expect(redo.has('x') && redo.has('t')).toBe(true);
    compare(inGraph, js, redo); // what the graph kept equals the JS values
  });

  it('means only: a NaN stays a NaN mean, as in JS', async () => {
    const m = model(13);
    const req: WatchRequest[] = [{ tensor: 'x', granularity: 'perchannel', channelAxis: 1, stats: [{ type: 'mean' }] }];
    const a = new CalibrationStats(req);
    const plan = inGraphStatistics(m, a)!;
    const s = await engine.createSession(encodeModel(plan.model));
    const x = data(6, (v) => (v[3] = NaN));
    const redo = new Set<string>();
    addReducedBatch(plan, await engine.run(s, { x: { type: 'float32', dims: SHAPE, data: x } }, plan.fetch), a, redo);
    await engine.release(s);
    const b = new CalibrationStats(req);
    b.add('x', x, SHAPE);
    expect(redo.size).toBe(0);
    const va = a.collectors.get('x')!.values({ type: 'mean' }).data;
    const vb = b.collectors.get('x')!.values({ type: 'mean' }).data;
    expect(Number.isNaN(va[0]) && Number.isNaN(vb[0])).toBe(true);
    for (let i = 1; i < vb.length; i++) expect(sameMean(va[i], vb[i])).toBe(true);
  });

  it('leaves layouts it does not reduce to the JS collector (exposed whole)', async () => {
    const m = model(13);
    const req: WatchRequest[] = [
      { tensor: 'x', granularity: 'perchannel', channelAxis: 2, stats: [{ type: 'max' }] },
      { tensor: 'r', granularity: 'pertensor', channelAxis: 1, stats: [{ type: 'max' }] },
    ];
    const plan = inGraphStatistics(m, new CalibrationStats(req))!;
    expect(plan.raw).toEqual(['x']);
    expect(plan.plans.map((p) => p.tensor)).toEqual(['r']);
  });
});
