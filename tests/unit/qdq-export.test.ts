// Standard QDQ export: structure, validity, equality with the switchable fake-quant graph; the
// opset converter (9/7/10/11 → 13) against onnxruntime's own results at the original opset; the
// model checks of verifyModel.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InferenceSession } from 'onnxruntime-common';
import { attrInt } from '../../src/core/onnx/attributes';
import { GraphIndex } from '../../src/core/onnx/graph';
import { normalizeModel } from '../../src/core/onnx/normalize';
import { upgradeOpset } from '../../src/core/onnx/opset-upgrade';
import { AttrType, cloneModel, decodeModel, encodeModel, onnx, opsetVersion, toNum, type ModelProto } from '../../src/core/onnx/proto';
import { makeTensor, readTensor } from '../../src/core/onnx/tensor';
import { verifyModel } from '../../src/core/onnx/verify';
import { exportQdqModel } from '../../src/core/quant/qdq-export';
import { fakeQuantize } from '../../src/core/quant/ranges';
import { buildSwitchableModel, makeFeeds } from '../../src/core/quant/switchable';
import { QuantizeError, type QuantizerParams, type QuantizerSpec } from '../../src/core/types';
import { EXACT, QUIET, Runner, calibrate, composite, compositeParams, diff, f32, graph, grid, lcg, placement, tieInput, type N } from '../conformance/helpers';

let native: Runner | undefined;
const ort = async () => (native ??= await Runner.create('native'));
/** No graph optimizations: Q/DQ run as the plain ops they are (see the 'all' test for what ORT's QDQ transformers change). */
const PLAIN = { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 } as InferenceSession.SessionOptions;

/** Feeds that make the switchable graph compute what the exported model computes. */
function switchableFeeds(model: ModelProto, specs: QuantizerSpec[], params: Record<string, QuantizerParams>, enabled: Set<string>, biases: Record<string, Float32Array>) {
  const idx = new GraphIndex(model);
  const overrides: Record<string, Float32Array> = {};
  const overridable = new Set<string>();
  for (const s of specs) {
    if (s.kind !== 'weight') continue;
    overridable.add(s.tensor);
    if (!enabled.has(s.id)) continue;
    const t = readTensor(idx.initializers.get(s.tensor)!);
    overrides[s.tensor] = fakeQuantize(t.data as Float32Array, t.dims, params[s.id], s.axis ?? 0);
  }
  for (const [node, b] of Object.entries(biases)) {
    const name = idx.nodes[idx.nodeByName.get(node)!].input![2];
    overridable.add(name);
    overrides[name] = b;
  }
  const { model: sw, layout } = buildSwitchableModel(model, specs, { flavor: 'qdq', overridable: [...overridable] });
  return { sw, feeds: makeFeeds(layout, enabled, params, overrides) };
}

describe('QDQ export of a hand-built Conv/Add/Concat/MatMul/Gemm model', () => {
  const { model, specs, weights } = composite();
  const params = compositeParams(weights);
  const X = f32([2, 4, 6, 6], tieInput([2, 4, 6, 6], 3));
  const all = new Set(specs.map((s) => s.id));
  const biases = { c1: Float32Array.from([0.05, -0.02, 0.01, 0.03]), gm: Float32Array.from([0.1, 0.2, -0.3]) };

  it('stores signed grids as uint8 shifted by 128 by default (U8U8 kernels), dequantizing to the same values', () => {
    const asGrid = new GraphIndex(exportQdqModel(model, specs, params, all, biases, { storage: 'grid' }));
    const u8 = new GraphIndex(exportQdqModel(model, specs, params, all, biases));
    let signed = 0;
    for (const [name, t] of asGrid.initializers) {
      const a = readTensor(t);
      const b = readTensor(u8.initializers.get(name)!);
      if (a.type !== 'int8') {
        expect(b).toEqual(a);
        continue;
      }
      signed++;
      expect(b.type).toBe('uint8');
      expect(Array.from(b.data as Uint8Array)).toEqual(Array.from(a.data as Int8Array, (v) => v + 128));
    }
    expect(signed).toBeGreaterThanOrEqual(4); // weights and zero points of the symmetric grids
  });

  it('writes int8 weights (per axis) and Q→DQ pairs on activations', () => {
    const e = exportQdqModel(model, specs, params, all, biases, { storage: 'grid' });
    expect(verifyModel(e)).toEqual({ errors: [], warnings: [] });
    expect(opsetVersion(e)).toBe(13);
    const idx = new GraphIndex(e);
    const q = idx.initializers.get('W1_quantized')!;
    expect(readTensor(q).type).toBe('int8');
    expect(readTensor(idx.initializers.get('W1_scale')!).dims).toEqual([4]);
    expect(readTensor(idx.initializers.get('Wm_zero_point')!)).toMatchObject({ type: 'int8', dims: [5] });
    expect(idx.initializers.has('W1')).toBe(false); // the FP32 weight is gone
    const dqW = idx.nodes[idx.nodeByName.get('W1_DequantizeLinear')!];
    expect(attrInt(dqW, 'axis', 1)).toBe(0);
    expect(attrInt(idx.nodes[idx.nodeByName.get('Wm_DequantizeLinear')!], 'axis', -9)).toBe(1);
    const c1 = idx.nodes[idx.nodeByName.get('c1')!];
    expect(c1.input).toEqual(['X_DequantizeLinear_Output', 'W1_DequantizeLinear_Output', 'B1_corrected']);
    expect(idx.nodes[idx.nodeByName.get('add1')!].input).toEqual(['A_DequantizeLinear_Output', 'X_DequantizeLinear_Output']);
    expect(idx.nodes[idx.nodeByName.get('cat')!].input).toEqual(['D_DequantizeLinear_Output', 'S']);
    const zpD = readTensor(idx.initializers.get('D_zero_point')!);
    expect(zpD).toMatchObject({ type: 'uint8', dims: [] });
    expect(Array.from(zpD.data as Uint8Array)).toEqual([128]);
    expect(readTensor(idx.initializers.get('S_scale')!).dims).toEqual([4]);
    expect(attrInt(idx.nodes[idx.nodeByName.get('S_QuantizeLinear')!], 'axis', -9)).toBe(1);
    // the quantized weights are the integers of the grid
    const w = weights.W1;
    const ints = readTensor(q).data as Int8Array;
    const s = params['w:W1'].scale;
    for (let i = 0; i < ints.length; i++) {
      expect(Math.abs(ints[i])).toBeLessThanOrEqual(127);
      expect(Math.abs(ints[i] * s[Math.floor(i / 36)] - w.data[i])).toBeLessThanOrEqual(s[Math.floor(i / 36)] / 2 + 1e-7);
    }
  });

  it('disabled quantizers leave the FP32 path; nothing enabled reproduces FP32 exactly', async () => {
    const r = await ort();
    const some = exportQdqModel(model, specs, params, new Set(['w:Wg', 'a:M']), {});
    const idx = new GraphIndex(some);
    expect(idx.initializers.has('W1')).toBe(true);
    expect(idx.nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(1);
    const none = exportQdqModel(model, specs, params, new Set(), {});
    const ref = await r.runModel(model, { X });
    expect(diff((await r.runModel(none, { X })).Y, ref.Y)).toEqual({ neq: 0, maxAbs: 0 });
  });

  it('equals the switchable graph with the same quantizers, grids and biases (bit for bit, no ORT rewrites)', async () => {
    const r = await ort();
    const subsets = [all, new Set(['a:X', 'w:W1', 'a:S', 'w:Wdw']), new Set(['a:D', 'a:M', 'w:Wg', 'w:Wm'])];
    for (const enabled of subsets) {
      const b = Object.fromEntries(Object.entries(biases).filter(([n]) => specs.some((s) => s.kind === 'weight' && enabled.has(s.id) && s.consumers.some((c) => c.node === n))));
      const e = exportQdqModel(model, specs, params, enabled, b);
      const { sw, feeds } = switchableFeeds(model, specs, params, enabled, b);
      const a = await r.runModel(e, { X }, PLAIN);
      const s = await r.runModel(sw, { X, ...feeds }, PLAIN);
      expect(diff(a.Y, s.Y)).toEqual({ neq: 0, maxAbs: 0 });
    }
  });

  it('clear errors for grids a QDQ model cannot store', () => {
    expect(() => exportQdqModel(model, specs, { ...params, 'a:X': grid(0.1, 0, 'int8', true) }, new Set(['a:X']), {})).toThrow(/not the full int8 range/);
    expect(() => exportQdqModel(model, specs, params, new Set(['a:nope']), {})).toThrow(/'a:nope' is enabled but is not one of the model's quantizers/);
    expect(() => exportQdqModel(model, specs, params, new Set(), { fl: new Float32Array(1) })).toThrow(/no bias input/);
    expect(() => exportQdqModel(model, specs, params, new Set(), { c1: new Float32Array(3) })).toThrow(/has 3 values/);
    const bad = { ...params, 'w:W1': grid([0.1, 0.1], [0, 0], 'int8', true) };
    expect(() => exportQdqModel(model, specs, bad, new Set(['w:W1']), {})).toThrow(/scale has 2 values for 4 channel/);
  });
});

describe('QDQ export of the fixture models', () => {
  const fixtures: [string, number[]][] = [
    ['fmnist-cnn', [8, 1, 28, 28]],
    ['fmnist-resnet', [8, 1, 28, 28]],
    ['fmnist-mobilenet', [8, 1, 28, 28]],
    ['ch_ppocr_mobile_v2.0_cls_infer', [4, 3, 48, 192]],
  ];
  for (const [file, dims] of fixtures) {
    it(`${file}: loads, verifies, equals the switchable graph; ORT's int8 rewrites stay close`, async () => {
      const r = await ort();
      const bytes = readFileSync(`tests/fixtures/models/${file}.onnx`);
      const m = normalizeModel(decodeModel(bytes, file), file).model;
      const specs = placement(m);
      const idx = new GraphIndex(m);
      const inName = idx.inputs[0];
      const X = f32(
        dims,
        lcg(
          dims.reduce((a, b) => a * b, 1),
          3,
          1.5,
        ),
      );
      const params = await calibrate(r, m, specs, { [inName]: X });
      const enabled = new Set(specs.map((s) => s.id));
      const e = exportQdqModel(m, specs, params, enabled, {});
      expect(verifyModel(e).errors).toEqual([]);
      expect(opsetVersion(e)).toBeGreaterThanOrEqual(13);
      // int8 weights: the CNN and ResNet shrink to about a quarter; in the depthwise-heavy models
      // per-channel scales, float biases and the Q/DQ nodes' names weigh more
      expect(encodeModel(e).byteLength).toBeLessThan((file.includes('mobilenet') || file.startsWith('ch_') ? 0.55 : 0.35) * bytes.byteLength);
      const { sw, feeds } = switchableFeeds(m, specs, params, enabled, {});
      const out = Object.keys(await r.runModel(m, { [inName]: X }, QUIET))[0];
      const plainQ = await r.runModel(e, { [inName]: X }, PLAIN);
      const plainS = await r.runModel(sw, { [inName]: X, ...feeds }, PLAIN);
      expect(diff(plainQ[out], plainS[out])).toEqual({ neq: 0, maxAbs: 0 });
      // Default options: ORT quantizes the float biases of DQ→Conv/Gemm units to int32 (scale
      // s_in·s_w, WeightBiasQuantization) and runs DQ→op→Q units as int8 kernels (QLinearConv,
      // QGemm, QLinearAdd…: exact integer sums, then a requantization rounding of their own), so
      // a quantized activation can land one step away from the float fake-quant value.
      const fullQ = await r.runModel(e, { [inName]: X }, QUIET);
      const y = plainS[out].data as Float32Array;
      const scale = y.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      expect(diff(fullQ[out], plainS[out]).maxAbs).toBeLessThan(0.05 * scale);
    });
  }

  it('PaddleOCR (opset 9): the export is raised to opset 13 and, with nothing enabled, reproduces FP32', async () => {
    const r = await ort();
    const file = 'ch_ppocr_mobile_v2.0_cls_infer';
    const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${file}.onnx`), file), file).model;
    expect(opsetVersion(m)).toBe(9);
    const e = exportQdqModel(m, placement(m), {}, new Set(), {});
    expect(opsetVersion(e)).toBe(13);
    expect(toNum(e.irVersion)).toBeGreaterThanOrEqual(7);
    expect(verifyModel(e).errors).toEqual([]);
    const ops = new Set(new GraphIndex(e).nodes.map((n) => n.opType));
    expect(ops.has('QuantizeLinear')).toBe(false);
    const X = f32([2, 3, 48, 192], lcg(2 * 3 * 48 * 192, 9, 1));
    for (const opt of [EXACT, QUIET]) {
      const a = await r.runModel(m, { x: X }, opt);
      const b = await r.runModel(e, { x: X }, opt);
      expect(diff(b['softmax_0.tmp_0'], a['softmax_0.tmp_0'])).toEqual({ neq: 0, maxAbs: 0 });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Opset conversion: the converted model must give onnxruntime's results at the original opset.

const X_DIMS = [2, 3, 4, 4];
const XS = f32(X_DIMS, lcg(96, 21, 2));

async function sameAfterUpgrade(model: ModelProto, target = 13): Promise<string[]> {
  const r = await ort();
  const ref = await r.runModel(model, { X: XS }, QUIET);
  const { model: up, report } = upgradeOpset(normalizeModel(model).model, target);
  expect(opsetVersion(up)).toBe(target);
  expect(verifyModel(up).errors).toEqual([]);
  const got = await r.runModel(up, { X: XS }, QUIET);
  for (const k of Object.keys(ref)) expect(diff(got[k], ref[k]), k).toEqual({ neq: 0, maxAbs: 0 });
  return report.converted;
}

const i64 = (v: number[]) => ({ dims: [v.length], data: BigInt64Array.from(v.map(BigInt)), type: 'int64' as const });
const outs = (names: string[]) => Object.fromEntries(names.map((n) => [n, undefined]));

describe('opset conversion to 13', () => {
  it('opset 9: Clip, Slice, Softmax family, Upsample, Pad, TopK, Squeeze/Unsqueeze, Split, ReduceSum, Dropout, Scatter', async () => {
    const nodes: N[] = [
      { op: 'Clip', name: 'clip', in: ['X'], out: ['o_clip'], attrs: { min: -0.5, max: 0.7 } },
      { op: 'Clip', name: 'clip_hi', in: ['X'], out: ['o_cliphi'], attrs: { max: 0.25 } },
      { op: 'Slice', name: 'slice', in: ['X'], out: ['o_slice'], attrs: { starts: [0, 1], ends: [1, 3], axes: [0, 2] } },
      { op: 'Softmax', name: 'sm', in: ['X'], out: ['o_sm'], attrs: { axis: 1 } },
      { op: 'LogSoftmax', name: 'lsm', in: ['X'], out: ['o_lsm'], attrs: { axis: 3 } },
      { op: 'Hardmax', name: 'hm', in: ['X'], out: ['o_hm'], attrs: { axis: 2 } },
      { op: 'Softmax', name: 'sm_default', in: ['X'], out: ['o_smd'] },
      { op: 'Upsample', name: 'up', in: ['X', 'scales'], out: ['o_up'], attrs: { mode: 'nearest' } },
      { op: 'Upsample', name: 'upl', in: ['X', 'scales'], out: ['o_upl'], attrs: { mode: 'linear' } },
      { op: 'Pad', name: 'pad', in: ['X'], out: ['o_pad'], attrs: { pads: [0, 0, 1, 2, 0, 0, 1, 0], value: 1.5 } },
      { op: 'Pad', name: 'padr', in: ['X'], out: ['o_padr'], attrs: { pads: [0, 0, 1, 1, 0, 0, 1, 1], mode: 'reflect' } },
      { op: 'TopK', name: 'topk', in: ['X'], out: ['o_topk', 'o_topki'], attrs: { k: 2 } },
      { op: 'Unsqueeze', name: 'unsq', in: ['X'], out: ['U'], attrs: { axes: [0, 3] } },
      { op: 'Squeeze', name: 'sq', in: ['U'], out: ['o_sq'], attrs: { axes: [0] } },
      { op: 'Split', name: 'split', in: ['X'], out: ['o_s1', 'o_s2'], attrs: { axis: 2, split: [1, 3] } },
      { op: 'ReduceSum', name: 'rsum', in: ['X'], out: ['o_rsum'], attrs: { axes: [1, 3], keepdims: 0 } },
      { op: 'Dropout', name: 'drop', in: ['X'], out: ['o_drop', 'unused_mask'], attrs: { ratio: 0.3 } },
      { op: 'Scatter', name: 'scatter', in: ['X', 'sc_idx', 'sc_upd'], out: ['o_sc'], attrs: { axis: 3 } },
    ];
    const model = graph({
      opset: 9,
      inputs: { X: X_DIMS },
      nodes,
      outputs: outs(nodes.flatMap((n) => n.out).filter((o) => o !== 'U' && o !== 'unused_mask')),
      inits: {
        scales: { dims: [4], data: [1, 1, 2, 2] },
        sc_idx: { ...i64(new Array(96).fill(0).map((_, i) => (i * 7) % 4)), dims: X_DIMS },
        sc_upd: { dims: X_DIMS, data: lcg(96, 5) },
      },
    });
    for (const o of model.graph!.output!) if (o.name === 'o_topki') o.type!.tensorType!.elemType = 7;
    // Slice to the end with INT64_MAX, as exporters write it
    model.graph!.node!.push(
      onnx.NodeProto.create({
        name: 'slice_end',
        opType: 'Slice',
        input: ['X'],
        output: ['o_slice_end'],
        attribute: [
          { name: 'starts', type: AttrType.INTS, ints: [1] },
          { name: 'ends', type: AttrType.INTS, ints: ['9223372036854775807' as unknown as number] },
          { name: 'axes', type: AttrType.INTS, ints: [3] },
        ],
      }),
    );
    model.graph!.output!.push({ name: 'o_slice_end', type: { tensorType: { elemType: 1 } } });
    const converted = await sameAfterUpgrade(decodeModel(encodeModel(model)));
    expect(converted).toEqual(
      expect.arrayContaining([
        'clip (Clip): min/max attributes → inputs',
        'sm (Softmax): coerced-2D semantics kept with Flatten/Reshape',
        'up (Upsample): Upsample → Resize (asymmetric)',
        'drop (Dropout): Dropout (inference) → Identity',
        'scatter (Scatter): Scatter → ScatterElements',
      ]),
    );
  });

  it('opset 7: BatchNormalization spatial, Upsample scales attribute, Clip, Pad', async () => {
    const nodes: N[] = [
      { op: 'BatchNormalization', name: 'bn', in: ['X', 'g', 'b', 'mu', 'var'], out: ['o_bn'], attrs: { spatial: 1, epsilon: 0.001 } },
      { op: 'Upsample', name: 'up', in: ['X'], out: ['o_up'], attrs: { mode: 'nearest', scales: Float32Array.from([1, 1, 2, 3]) } },
      { op: 'Clip', name: 'clip', in: ['X'], out: ['o_clip'], attrs: { min: -0.1 } },
      { op: 'Pad', name: 'pad', in: ['X'], out: ['o_pad'], attrs: { pads: [0, 1, 0, 0, 0, 1, 0, 0] } },
    ];
    const model = graph({
      opset: 7,
      ir: 3,
      inputs: { X: X_DIMS },
      nodes,
      outputs: outs(['o_bn', 'o_up', 'o_clip', 'o_pad']),
      inits: { g: { dims: [3], data: [1, 2, 0.5] }, b: { dims: [3], data: [0, 0.1, -0.2] }, mu: { dims: [3], data: [0.1, 0, 0.3] }, var: { dims: [3], data: [1, 0.5, 2] } },
    });
    // IR 3 lists initializers as graph inputs
    model.graph!.input!.push(...['g', 'b', 'mu', 'var'].map((n) => ({ name: n, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } } })));
    const converted = await sameAfterUpgrade(model);
    expect(converted).toContain('bn (BatchNormalization): dropped spatial=1');
  });

  it('opset 10: Resize-10 (nearest up/down, linear), Slice with inputs, TopK with k input', async () => {
    const nodes: N[] = [
      { op: 'Resize', name: 'down', in: ['X', 'sd'], out: ['o_down'], attrs: { mode: 'nearest' } },
      { op: 'Resize', name: 'upn', in: ['X', 'su'], out: ['o_upn'], attrs: { mode: 'nearest' } },
      { op: 'Resize', name: 'upl', in: ['X', 'su2'], out: ['o_upl'], attrs: { mode: 'linear' } },
      { op: 'Slice', name: 'slice', in: ['X', 'st', 'en'], out: ['o_slice'] },
      { op: 'Softmax', name: 'sm', in: ['X'], out: ['o_sm'], attrs: { axis: 2 } },
    ];
    const model = graph({
      opset: 10,
      inputs: { X: X_DIMS },
      nodes,
      outputs: outs(['o_down', 'o_upn', 'o_upl', 'o_slice', 'o_sm']),
      inits: { sd: { dims: [4], data: [1, 1, 0.5, 0.5] }, su: { dims: [4], data: [1, 1, 1.5, 2.5] }, su2: { dims: [4], data: [1, 1, 2, 2] }, st: i64([1, 1]), en: i64([2, 3]) },
    });
    const converted = await sameAfterUpgrade(model);
    expect(converted).toContain('down (Resize): Resize-10 → Resize-13 (asymmetric)');
  });

  it('opset 11: Softmax on a non-last axis, Squeeze/Split/ReduceSum attributes, Resize with sizes', async () => {
    const nodes: N[] = [
      { op: 'Softmax', name: 'sm', in: ['X'], out: ['o_sm'], attrs: { axis: -2 } },
      { op: 'Unsqueeze', name: 'unsq', in: ['X'], out: ['U'], attrs: { axes: [-1] } },
      { op: 'Squeeze', name: 'sq', in: ['U'], out: ['o_sq'], attrs: { axes: [-1] } },
      { op: 'Split', name: 'split', in: ['X'], out: ['o_s1', 'o_s2'], attrs: { axis: 1, split: [2, 1] } },
      { op: 'ReduceSum', name: 'rsum', in: ['X'], out: ['o_rsum'], attrs: { axes: [2] } },
      { op: 'Resize', name: 'rs', in: ['X', 'roi', 'nosc', 'sizes'], out: ['o_rs'], attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' } },
    ];
    const model = graph({
      opset: 11,
      inputs: { X: X_DIMS },
      nodes,
      outputs: outs(['o_sm', 'o_sq', 'o_s1', 'o_s2', 'o_rsum', 'o_rs']),
      inits: { roi: { dims: [0], data: [] }, nosc: { dims: [0], data: [] }, sizes: i64([2, 3, 7, 5]) },
    });
    const converted = await sameAfterUpgrade(model);
    expect(converted).toContain('rs (Resize): empty scales → omitted');
  });

  it('opset 12: Constant value_ints with INT64_MAX (a Slice to the end) survives normalisation', async () => {
    const nodes = [
      {
        proto: {
          name: 'cmax',
          opType: 'Constant',
          input: [],
          output: ['en_max'],
          attribute: [{ name: 'value_ints', type: AttrType.INTS, ints: ['9223372036854775807' as unknown as number] }],
        },
      },
      { op: 'Slice', name: 'slice_max', in: ['X', 'st1', 'en_max', 'ax3'], out: ['o_slice_max'] },
      { op: 'Softmax', name: 'sm', in: ['o_slice_max'], out: ['o_sm'], attrs: { axis: 1 } },
    ];
    const model = graph({ opset: 12, inputs: { X: X_DIMS }, nodes, outputs: outs(['o_sm']), inits: { st1: i64([1]), ax3: i64([3]) } });
    const converted = await sameAfterUpgrade(decodeModel(encodeModel(model)));
    expect(converted).toEqual(['sm (Softmax): coerced-2D semantics kept with Flatten/Reshape']);
  });

  it('refuses what it cannot convert, naming the node and the op', () => {
    const bn = graph({
      opset: 7,
      inputs: { X: X_DIMS },
      outputs: { Y: X_DIMS },
      inits: { g: { dims: [3], data: [1, 1, 1] }, b: { dims: [3], data: [0, 0, 0] }, mu: { dims: [3], data: [0, 0, 0] }, var: { dims: [3], data: [1, 1, 1] } },
      nodes: [{ op: 'BatchNormalization', name: 'bn0', in: ['X', 'g', 'b', 'mu', 'var'], out: ['Y'], attrs: { spatial: 0 } }],
    });
    expect(() => upgradeOpset(bn)).toThrow(/node 'bn0' \(BatchNormalization\).*spatial=0/);
    const drop = graph({
      opset: 9,
      inputs: { X: X_DIMS },
      outputs: { Y: X_DIMS, M: X_DIMS },
      nodes: [{ op: 'Dropout', name: 'd0', in: ['X'], out: ['Y', 'M'] }],
    });
    expect(() => upgradeOpset(drop)).toThrow(/node 'd0' \(Dropout\).*mask output 'M' is used/);
    const scaler = graph({ opset: 8, inputs: { X: X_DIMS }, outputs: { Y: X_DIMS }, nodes: [{ op: 'ImageScaler', name: 'is0', in: ['X'], out: ['Y'], attrs: { scale: 0.5 } }] });
    expect(() => upgradeOpset(scaler)).toThrow(QuantizeError);
    expect(() => upgradeOpset(scaler)).toThrow(/node 'is0' \(ImageScaler\)/);
    const rs = graph({
      opset: 10,
      inputs: { X: X_DIMS },
      outputs: { Y: undefined },
      nodes: [{ op: 'Resize', name: 'r0', in: ['X', 'S'], out: ['Y'], attrs: { mode: 'nearest' } }],
      inits: {},
    });
    rs.graph!.input!.push({ name: 'S', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 4 }] } } } });
    expect(() => upgradeOpset(rs)).toThrow(/node 'r0' \(Resize\).*scales computed at run time/);
  });

  it('leaves a model already at the target alone, and the input model untouched', () => {
    const { model } = composite();
    const before = encodeModel(model);
    const { model: up, report } = upgradeOpset(model, 13);
    expect(report.converted).toEqual([]);
    expect(encodeModel(up)).toEqual(before);
    const old = cloneModel(model);
    old.opsetImport![0].version = 11;
    upgradeOpset(old, 13);
    expect(opsetVersion(old)).toBe(11);
  });
});

// ---------------------------------------------------------------------------------------------

describe('verifyModel', () => {
  const base = () => composite().model;
  const errs = (m: ModelProto) => verifyModel(m).errors.join('\n');

  it('accepts a valid model and every export', () => {
    expect(verifyModel(base())).toEqual({ errors: [], warnings: [] });
  });
  it('finds undefined inputs, wrong order, duplicates and dangling outputs', () => {
    let m = base();
    m.graph!.node![1].input = ['nowhere'];
    expect(errs(m)).toMatch(/node 'r1' \(Relu\): input 0 'nowhere' is not a graph input/);
    m = base();
    m.graph!.node!.reverse();
    expect(errs(m)).toMatch(/output of an earlier node/);
    m = base();
    m.graph!.node![2].name = 'c1';
    expect(errs(m)).toMatch(/node name 'c1' is used twice/);
    m = base();
    m.graph!.node![2].output = ['A'];
    expect(errs(m)).toMatch(/'A' is defined twice/);
    m = base();
    m.graph!.output!.push({ name: 'ghost', type: { tensorType: { elemType: 1 } } });
    expect(errs(m)).toMatch(/graph output 'ghost' is produced by no node/);
    m = base();
    m.graph!.node!.push({ name: 'dead', opType: 'Relu', input: ['A'], output: ['dead_out'] });
    expect(verifyModel(m).warnings.join()).toMatch(/node 'dead' \(Relu\): no output is used/);
    m = base();
    m.graph!.initializer![0] = makeTensor('W1', 'float32', [4, 4, 3, 2], new Float32Array(144));
    expect(errs(m)).toMatch(/initializer 'W1': 576 bytes of raw data for 96 elements/);
  });
  it('checks Q/DQ scale and zero-point shapes against axis and opset', () => {
    const qdq = (scale: number[], zp: number[], axis: number, opset = 13, zpType: 'int8' | 'uint8' = 'int8') =>
      graph({
        opset,
        inputs: { X: [2, 3, 4] },
        outputs: { Y: [2, 3, 4] },
        inits: { s: { dims: scale.length === 1 ? [] : [scale.length], data: scale }, z: { dims: zp.length === 1 ? [] : [zp.length], data: zp, type: zpType } },
        nodes: [
          { op: 'QuantizeLinear', name: 'q', in: ['X', 's', 'z'], out: ['Q'], attrs: { axis } },
          { op: 'DequantizeLinear', name: 'dq', in: ['Q', 's', 'z'], out: ['Y'], attrs: { axis } },
        ],
      });
    expect(errs(qdq([0.1], [0], 1))).toBe('');
    expect(errs(qdq([0.1, 0.2, 0.3], [0, 0, 0], 1))).toBe('');
    expect(errs(qdq([0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0], 1))).toMatch(/node 'q' \(QuantizeLinear\): scale 's' has 4 values but input 'X' has 3 along axis 1/);
    expect(errs(qdq([0.1, 0.2, 0.3], [0, 0], 1))).toMatch(/scale 's' \[3\] and zero point 'z' \[2\] differ in shape/);
    expect(errs(qdq([0.1, 0.2, 0.3], [0, 0, 0], 1, 12))).toMatch(/needs opset ≥ 13/);
    expect(errs(qdq([0.1], [0], 1, 9))).toMatch(/needs opset ≥ 10/);
    expect(errs(qdq([0.1, 0.2, 0.3], [0, 0, 0], 5))).toMatch(/axis 5 is out of range/);
  });
});
