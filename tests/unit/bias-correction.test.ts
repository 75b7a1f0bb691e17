// FastBiasCorrection: the closed-form one-op evaluation matches onnxruntime running the op on the
// synthetic constant-per-channel input; acceptance rules as POT's.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { intsAttr, intAttr } from '../../src/core/onnx/attributes';
import { encodeModel } from '../../src/core/onnx/proto';
import { fastBiasCorrection, fqScalar } from '../../src/core/quant/bias-correction';
import { symmetricActivationParams } from '../../src/core/quant/ranges';
import { buildModel, weights } from './helpers/build-model';

async function convOutputMean(attrs: ReturnType<typeof intsAttr>[], w: number[], inMean: number[], H: number, W: number, bias: Float32Array) {
  const C = inMean.length;
  const m = buildModel({
    inputs: { x: [1, C, H, W] },
    outputs: { y: [1, w[0], -1, -1] as number[] },
    initializers: { w, b: [w[0]] },
    nodes: [{ op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs }],
  });
  const winit = m.graph!.initializer!.find((t) => t.name === 'w')!;
  const binit = m.graph!.initializer!.find((t) => t.name === 'b')!;
  binit.rawData = new Uint8Array(bias.buffer.slice(0));
  const s = await ort.InferenceSession.create(encodeModel(m));
  const x = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) x.fill(inMean[c], c * H * W, (c + 1) * H * W);
  const y = (await s.run({ x: new ort.Tensor('float32', x, [1, C, H, W]) })).y;
  const [, O, Ho, Wo] = y.dims as number[];
  const data = y.data as Float32Array;
  const mean = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    let acc = 0;
    for (let i = 0; i < Ho * Wo; i++) acc += data[o * Ho * Wo + i];
    mean[o] = acc / (Ho * Wo);
  }
  return { mean, weights: new Float32Array(winit.rawData!.slice().buffer), node: m.graph!.node![0] };
}

describe('FastBiasCorrection', () => {
  const cases = [
    { name: 'padded strided 3×3', attrs: [intsAttr('pads', [1, 1, 1, 1]), intsAttr('strides', [2, 2])], w: [4, 3, 3, 3], H: 7, W: 6 },
    { name: 'dilated, asymmetric pads', attrs: [intsAttr('pads', [0, 2, 1, 0]), intsAttr('dilations', [2, 1])], w: [2, 3, 3, 2], H: 6, W: 5 },
    { name: 'depthwise', attrs: [intsAttr('pads', [1, 1, 1, 1]), intAttr('group', 3)], w: [3, 1, 3, 3], H: 5, W: 5 },
  ];
  for (const c of cases) {
    it(`closed-form conv mean equals onnxruntime on the synthetic input (${c.name})`, async () => {
      const inMean = [0.5, -1.25, 2];
      const bias = Float32Array.from({ length: c.w[0] }, (_, i) => 0.1 * (i + 1));
      const r = await convOutputMean(c.attrs, c.w, inMean, c.H, c.W, bias);
      // with unquantized weights and no input quantizer, the corrected bias is the old bias
      const res = fastBiasCorrection({
        node: r.node,
        weights: r.weights,
        weightDims: c.w,
        bias,
        inputMean: Float64Array.from(inMean),
        inputSpatial: [c.H, c.W],
        outputMean: r.mean,
      });
      expect(res.applied).toBe(true);
      if (res.applied) for (let o = 0; o < bias.length; o++) expect(res.bias[o]).toBeCloseTo(bias[o], 5);
    });
  }

  it('passes the input mean through the input quantizer and replaces the bias with fp32_out_mean − q_out', () => {
    const node = { opType: 'Gemm', name: 'g', attribute: [intAttr('transB', 1)] };
    const w = weights(6, 3); // [N=2, K=3]
    const inMean = Float64Array.from([0.3, -0.7, 1.1]);
    const aq = symmetricActivationParams([1.27], [-1]);
    const outMean = Float64Array.from([0.5, -0.25]);
    const res = fastBiasCorrection({
      node,
      weights: w,
      weightDims: [2, 3],
      bias: Float32Array.from([0.4, -0.3]),
      inputMean: inMean,
      inputSpatial: [],
      outputMean: outMean,
      inputQuantizer: aq,
    });
    expect(res.applied).toBe(true);
    const xq = Array.from(inMean, (v) => fqScalar(v, aq));
    for (let n = 0; n < 2; n++) {
      const q = xq.reduce((a, x, k) => a + x * w[n * 3 + k], 0);
      if (res.applied) expect(res.bias[n]).toBeCloseTo(outMean[n] - q, 6);
    }
  });

  it('skips a bias with a zero element and a relative change ≥ 2', () => {
    const node = { opType: 'Gemm', name: 'g', attribute: [intAttr('transB', 1)] };
    const base = { node, weights: Float32Array.from([1, 0, 0, 1]), weightDims: [2, 2], inputMean: Float64Array.from([1, 1]), inputSpatial: [] };
    expect(fastBiasCorrection({ ...base, bias: Float32Array.from([0, 1]), outputMean: Float64Array.from([1, 2]) }).applied).toBe(false);
    // new = out − q = [1.5 − 1, 2 − 1] = [0.5, 1]; old [0.1, 1] → relative change 4 ≥ 2
    const r = fastBiasCorrection({ ...base, bias: Float32Array.from([0.1, 1]), outputMean: Float64Array.from([1.5, 2]) });
    expect(r).toEqual({ applied: false, reason: 'relative change 4.000 ≥ 2' });
  });
});
