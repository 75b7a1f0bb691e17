// The switchable fake-quant graph: all-off reproduces FP32 bit for bit, the float (WebGPU) and
// qdq (CPU) flavors agree bit for bit with quantizers on (ties included), and both equal a
// JavaScript reference of QuantizeLinear→DequantizeLinear.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphIndex } from '../../src/core/onnx/graph';
import { normalizeModel } from '../../src/core/onnx/normalize';
import { cloneModel, decodeModel, encodeModel, type ModelProto } from '../../src/core/onnx/proto';
import { makeTensor, readTensor } from '../../src/core/onnx/tensor';
import { fakeQuantize } from '../../src/core/quant/ranges';
import { EXACT_SESSION_OPTIONS, buildSwitchableModel, makeFeeds, type SwitchFlavor } from '../../src/core/quant/switchable';
import { QuantizeError, type QuantizerParams, type QuantizerSpec, type TensorData } from '../../src/core/types';
import { EXACT, Runner, act, composite, compositeParams, diff, f32, graph, grid, lcg, placement, tieInput, type Backend } from '../conformance/helpers';

const FLAVORS: SwitchFlavor[] = ['float', 'qdq'];
const BACKENDS: Backend[] = ['native', 'wasm'];
const runners: Partial<Record<Backend, Runner>> = {};
const runner = async (b: Backend) => (runners[b] ??= await Runner.create(b));

function withInitializer(model: ModelProto, name: string, data: Float32Array): ModelProto {
  const m = cloneModel(model);
  m.graph!.initializer = m.graph!.initializer!.map((t) => (t.name === name ? makeTensor(name, 'float32', (t.dims ?? []).map(Number), data) : t));
  return m;
}

describe('switchable graph on a hand-built Conv/Add/Concat/MatMul/Gemm model', () => {
  const { model, specs, weights } = composite();
  const params = compositeParams(weights);
  const X = f32([2, 4, 6, 6], tieInput([2, 4, 6, 6]));
  const overridable = ['W1', 'Wdw', 'Wm', 'Wg', 'B1'];
  const fqWeights = Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, fakeQuantize(v.data, v.dims, params[`w:${k}`], v.axis)]));

  it('the exact-session options are what the tests use', () => {
    expect(EXACT).toMatchObject(EXACT_SESSION_OPTIONS);
  });

  for (const backend of BACKENDS) {
    for (const flavor of FLAVORS) {
      it(`all off reproduces FP32 bit for bit (${backend}, ${flavor})`, async () => {
        const r = await runner(backend);
        const ref = await r.runModel(model, { X });
        const { model: sw, layout } = buildSwitchableModel(model, specs, { flavor, overridable });
        expect(layout.activations).toHaveLength(6);
        const out = await r.runModel(sw, { X, ...makeFeeds(layout, new Set(), {}, {}) });
        expect(diff(out.Y, ref.Y)).toEqual({ neq: 0, maxAbs: 0 });
        // disabled quantizers ignore whatever grid they are given
        const out2 = await r.runModel(sw, { X, ...makeFeeds(layout, new Set(), params, {}) });
        expect(diff(out2.Y, ref.Y).neq).toBe(0);
      });
    }

    it(`float and qdq flavors agree bit for bit with every quantizer on (${backend})`, async () => {
      const r = await runner(backend);
      const enabled = new Set(specs.map((s) => s.id));
      const outs: TensorData[] = [];
      for (const flavor of FLAVORS) {
        const { model: sw, layout } = buildSwitchableModel(model, specs, { flavor, overridable });
        outs.push((await r.runModel(sw, { X, ...makeFeeds(layout, enabled, params, fqWeights) })).Y);
      }
      expect(diff(outs[0], outs[1])).toEqual({ neq: 0, maxAbs: 0 });
      const fp = await r.runModel(model, { X });
      expect(diff(outs[0], fp.Y).neq).toBeGreaterThan(0); // the quantizers did something
    });

    it(`one quantizer on equals the FP32 model fed the JavaScript fake-quantized tensor (${backend})`, async () => {
      const r = await runner(backend);
      const fqX = f32(X.dims, fakeQuantize(X.data as Float32Array, X.dims, params['a:X']));
      const ref = await r.runModel(model, { X: fqX });
      const refW = await r.runModel(withInitializer(model, 'W1', fqWeights.W1), { X });
      for (const flavor of FLAVORS) {
        const { model: sw, layout } = buildSwitchableModel(model, specs, { flavor, overridable });
        const out = await r.runModel(sw, { X, ...makeFeeds(layout, new Set(['a:X']), params, {}) });
        expect(diff(out.Y, ref.Y)).toEqual({ neq: 0, maxAbs: 0 });
        const outW = await r.runModel(sw, { X, ...makeFeeds(layout, new Set(), params, { W1: fqWeights.W1 }) });
        expect(diff(outW.Y, refW.Y)).toEqual({ neq: 0, maxAbs: 0 });
      }
    });
  }

  it('float flavor uses only ops the WebGPU EP keeps on the GPU', () => {
    const { model: sw } = buildSwitchableModel(model, specs, { flavor: 'float', overridable });
    const ops = new Set(sw.graph!.node!.filter((n) => n.name!.startsWith('aaq.')).map((n) => n.opType));
    for (const op of ops) expect(['Div', 'Mul', 'Add', 'Sub', 'Floor', 'Min', 'Max', 'Equal', 'Less', 'Greater', 'Cast', 'Where']).toContain(op);
    expect(ops.has('Where')).toBe(true);
  });

  it('layout: per-channel grid shapes, names, overridable inputs; consumers rewired', () => {
    const { model: sw, layout } = buildSwitchableModel(model, specs, { flavor: 'qdq', overridable });
    const s = layout.activations.find((e) => e.id === 'a:S')!;
    expect(s).toMatchObject({ kind: 'qdq', channels: 4, gridDims: [4], output: 'S__aaq2' });
    const sf = buildSwitchableModel(model, specs, { flavor: 'float', overridable }).layout.activations[2];
    expect(sf).toMatchObject({ kind: 'float', gridDims: [1, 4, 1, 1] });
    expect(Object.values(s.inputs).every((n) => n.startsWith('aaq.2.'))).toBe(true);
    const idx = new GraphIndex(sw);
    expect(idx.nodes[idx.nodeByName.get('dw')!].input![0]).toBe('S__aaq2');
    expect(idx.nodes[idx.nodeByName.get('cat')!].input![1]).toBe('S'); // not a consumer of the quantizer
    expect(layout.overridable.map((o) => o.name)).toEqual(overridable);
    expect(sw.graph!.input!.map((i) => i.name)).toEqual(expect.arrayContaining(overridable));
  });
});

describe('fake quantization equals the JavaScript reference of QuantizeLinear→DequantizeLinear', () => {
  // Y = X + 0 with a quantizer on X: the output is fq(X) itself.
  const ident = (dims: number[], opset: number) =>
    graph({
      inputs: { X: dims },
      outputs: { Y: dims },
      opset,
      ir: opset < 9 ? 3 : 7,
      inits: { Z: { dims: [1], data: [0] } },
      nodes: [{ op: 'Add', name: 'add', in: ['X', 'Z'], out: ['Y'] }],
    });
  const dims = [2, 3, 4, 5];
  const n = 120;
  // ties (odd multiples of half a step), saturation, random values, zeros of both signs
  const x = new Float32Array(n);
  const rnd = lcg(n, 42, 4);
  for (let i = 0; i < n; i++) x[i] = i % 3 === 0 ? (((i % 37) - 18) * 0.5 + 0.25 * (i % 2)) * 0.125 : i % 3 === 1 ? rnd[i] : ((i % 11) - 5) * 0.0625 + 0.03125;
  x[1] = -0;
  x[2] = 0;
  const cases: [string, QuantizerParams, Partial<QuantizerSpec>][] = [
    ['int8 per tensor', grid(0.125, 0, 'int8'), {}],
    ['uint8 per tensor, zero point 128', grid(0.0625, 128, 'uint8'), {}],
    ['uint8 per tensor, zero point 3', grid(0.05, 3, 'uint8'), {}],
    ['int8 per channel', grid([0.125, 0.0625, 0.03], [0, -5, 7], 'int8'), { granularity: 'perchannel', axis: 1 }],
  ];
  for (const opset of [7, 8, 10, 11, 13]) {
    for (const [label, p, extra] of cases) {
      for (const flavor of FLAVORS) {
        it(`${label}, ${flavor}, opset ${opset}`, async () => {
          const r = await runner('native');
          const spec = act('X', [['add', 0]], extra);
          const { model: sw, layout } = buildSwitchableModel(ident(dims, opset), [spec], { flavor, overridable: [] });
          const e = layout.activations[0];
          expect(e.gate).toBe(opset >= 9 ? 'where' : 'if');
          expect(e.kind).toBe(flavor === 'qdq' && opset >= 10 && (!extra.granularity || opset >= 13) ? 'qdq' : 'float');
          const feeds = makeFeeds(layout, new Set(['a:X']), { 'a:X': p }, {});
          const out = await r.runModel(sw, { X: f32(dims, x), ...feeds });
          const ref = fakeQuantize(x, dims, p, extra.axis ?? 1);
          expect(diff(out.Y, f32(dims, ref))).toEqual({ neq: 0, maxAbs: 0 });
          const off = await r.runModel(sw, { X: f32(dims, x), ...makeFeeds(layout, new Set(), {}, {}) });
          expect(
            diff(
              off.Y,
              f32(
                dims,
                Float32Array.from(x, (v) => v + 0),
              ),
            ),
          ).toEqual({ neq: 0, maxAbs: 0 });
        });
      }
    }
  }
});

describe('fixture models: all off equals FP32 bit for bit', () => {
  const fixtures: [string, number[]][] = [
    ['fmnist-cnn', [4, 1, 28, 28]],
    ['fmnist-resnet', [4, 1, 28, 28]],
    ['fmnist-mobilenet', [4, 1, 28, 28]],
    ['ch_ppocr_mobile_v2.0_cls_infer', [2, 3, 48, 192]],
  ];
  for (const [file, dims] of fixtures) {
    for (const backend of BACKENDS) {
      it(`${file} (${backend}, both flavors)`, async () => {
        const r = await runner(backend);
        const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${file}.onnx`), file), file).model;
        const specs = placement(m);
        const idx = new GraphIndex(m);
        const overridable = [
          ...new Set(specs.filter((s) => s.kind === 'weight').flatMap((s) => [s.tensor, ...s.consumers.map((c) => idx.nodes[idx.nodeByName.get(c.node)!].input?.[2] ?? '')])),
        ].filter((t) => idx.isConstant(t));
        const inName = idx.inputs[0];
        const X = f32(
          dims,
          lcg(
            dims.reduce((a, b) => a * b, 1),
            5,
            2,
          ),
        );
        const ref = await r.runModel(m, { [inName]: X });
        for (const flavor of FLAVORS) {
          const { model: sw, layout } = buildSwitchableModel(m, specs, { flavor, overridable });
          expect(layout.activations.length).toBeGreaterThan(0);
          const out = await r.runModel(sw, { [inName]: X, ...makeFeeds(layout, new Set(), {}, {}) });
          for (const k of Object.keys(ref)) expect(diff(out[k], ref[k]), `${k} (${flavor})`).toEqual({ neq: 0, maxAbs: 0 });
        }
      });
    }
  }
});

describe('clear errors', () => {
  const { model, specs } = composite();
  it('per-channel quantizer whose channel count cannot be told', () => {
    const m = graph({
      inputs: { X: [-1, -1] },
      outputs: { Y: [-1, -1] },
      nodes: [
        { op: 'Relu', name: 'r', in: ['X'], out: ['R'] },
        { op: 'Relu', name: 'r2', in: ['R'], out: ['Y'] },
      ],
    });
    expect(() => buildSwitchableModel(m, [act('R', [['r2', 0]], { granularity: 'perchannel', axis: 1 })], { flavor: 'float', overridable: [] })).toThrow(
      /cannot tell how many channels tensor 'R' has/,
    );
  });
  it('a consumer that does not read the tensor', () => {
    expect(() => buildSwitchableModel(model, [act('X', [['mm', 0]])], { flavor: 'qdq', overridable: [] })).toThrow(/input 0 of node 'mm' is 'F', not 'X'/);
  });
  it('an overridable name that is no initializer', () => {
    expect(() => buildSwitchableModel(model, specs, { flavor: 'qdq', overridable: ['A'] })).toThrow(QuantizeError);
  });
  it('narrow grids on the qdq flavor, unknown overrides, missing grids', () => {
    const { layout } = buildSwitchableModel(model, specs, { flavor: 'qdq', overridable: ['W1'] });
    expect(() => makeFeeds(layout, new Set(['a:X']), { 'a:X': grid(0.1, 0, 'int8', true) }, {})).toThrow(/not a full 8-bit grid/);
    expect(() => makeFeeds(layout, new Set(['a:X']), {}, {})).toThrow(/enabled but has no grid/);
    expect(() => makeFeeds(layout, new Set(), {}, { Wg: new Float32Array(15) })).toThrow(/not an overridable input/);
    expect(() => makeFeeds(layout, new Set(), {}, { W1: new Float32Array(3) })).toThrow(/has 3 values/);
    // the float flavor takes narrow grids
    const f = buildSwitchableModel(model, specs, { flavor: 'float', overridable: [] });
    expect(() => makeFeeds(f.layout, new Set(['a:X']), { 'a:X': grid(0.1, 0, 'int8', true) }, {})).not.toThrow();
  });
  it('leaves the input model untouched', () => {
    const before = encodeModel(model);
    buildSwitchableModel(model, specs, { flavor: 'float', overridable: ['W1'] });
    expect(encodeModel(model)).toEqual(before);
    expect(readTensor(model.graph!.initializer![0]).dims).toEqual([4, 4, 3, 3]);
  });
});
