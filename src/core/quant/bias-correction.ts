// FastBiasCorrection (POT `algorithms/quantization/fast_bias_correction/algorithm.py`).
// For a Conv/Gemm with quantized weights and a bias: feed a synthetic input whose every element of
// channel c equals the FP32 input mean of channel c, through the input quantizer and the quantized
// weights with the bias removed; the new bias is `fp32_out_mean − q_out` (it replaces the old
// one). Skipped when any old bias element is 0, or when max |(new − old)/old| ≥ threshold (2.0).
// The one-op subgraph is evaluated here in closed form: with a per-channel constant input, the
// mean over output positions of a convolution only depends on how often each kernel tap lands
// inside the input (padding), which we count exactly.
import { attrFloat, attrInt, attrInts } from '../onnx/attributes';
import type { NodeProto } from '../onnx/proto';
import type { QuantizerParams } from '../types';

export const FBC_THRESHOLD = 2.0;

/** Fake-quantize one value on channel `c` of a grid (QuantizeLinear→DequantizeLinear). */
export function fqScalar(x: number, p: QuantizerParams, c = 0): number {
  const k = p.scale.length === 1 ? 0 : c;
  const s = p.scale[k];
  const zp = p.zeroPoint[k];
  const y = Math.fround(x / s);
  let r = Math.round(y);
  if (Math.abs(y % 1) === 0.5) r = 2 * Math.round(y / 2); // ties to even
  r = Math.min(Math.max(r, p.qmin - zp), p.qmax - zp);
  return Math.fround(r * s);
}

export interface BiasCorrectionInput {
  node: NodeProto;
  /** Quantized (fake-quantized) weights, same layout as the initializer. */
  weights: Float32Array;
  weightDims: number[];
  bias: Float32Array;
  /** FP32 per-channel mean of the op input (averaged per sample, then over samples). */
  inputMean: Float64Array;
  /** Spatial shape of the op input (H, W, …) for convolutions. */
  inputSpatial: number[];
  /** FP32 per-channel mean of the op output (bias included). */
  outputMean: Float64Array;
  /** Grid of the quantizer on the op input, if any. */
  inputQuantizer?: QuantizerParams;
}

export type BiasCorrectionResult = { applied: true; bias: Float32Array; maxRelativeChange: number } | { applied: false; reason: string };

export function fastBiasCorrection(inp: BiasCorrectionInput, threshold = FBC_THRESHOLD): BiasCorrectionResult {
  const { node, bias } = inp;
  if (bias.some((b) => b === 0)) return { applied: false, reason: 'a bias element is 0' };
  const m = Array.from(inp.inputMean, (v, c) => (inp.inputQuantizer ? fqScalar(v, inp.inputQuantizer, c) : Math.fround(v)));
  let qOut: Float64Array;
  if (node.opType === 'Conv') qOut = convMean(node, inp.weights, inp.weightDims, m, inp.inputSpatial);
  else if (node.opType === 'Gemm') {
    if (attrInt(node, 'transA', 0) !== 0 || attrFloat(node, 'beta', 1) !== 1) return { applied: false, reason: 'Gemm with transA or beta ≠ 1' };
    qOut = gemmMean(inp.weights, inp.weightDims, attrInt(node, 'transB', 0) === 1, m, attrFloat(node, 'alpha', 1));
  } else return { applied: false, reason: `${node.opType} is not corrected` };
  if (qOut.length !== bias.length || inp.outputMean.length !== bias.length) return { applied: false, reason: 'shape mismatch' };
  const out = new Float32Array(bias.length);
  let maxRel = 0;
  for (let c = 0; c < bias.length; c++) {
    out[c] = inp.outputMean[c] - qOut[c];
    maxRel = Math.max(maxRel, Math.abs((out[c] - bias[c]) / bias[c]));
  }
  if (!(maxRel < threshold)) return { applied: false, reason: `relative change ${maxRel.toFixed(3)} ≥ ${threshold}` };
  return { applied: true, bias: out, maxRelativeChange: maxRel };
}

function gemmMean(w: Float32Array, dims: number[], transB: boolean, m: number[], alpha: number): Float64Array {
  const [r, c] = dims;
  const N = transB ? r : c;
  const K = transB ? c : r;
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += m[k] * w[transB ? n * K + k : k * N + n];
    out[n] = alpha * s;
  }
  return out;
}

/** Fraction of output positions at which kernel tap `k` reads inside the input, per spatial axis. */
function tapFractions(inSize: number, kernel: number, stride: number, dil: number, padBegin: number, padEnd: number): number[] {
  const outSize = Math.floor((inSize + padBegin + padEnd - dil * (kernel - 1) - 1) / stride) + 1;
  const fr: number[] = [];
  for (let k = 0; k < kernel; k++) {
    let inside = 0;
    for (let o = 0; o < outSize; o++) {
      const i = o * stride - padBegin + k * dil;
      if (i >= 0 && i < inSize) inside++;
    }
    fr.push(outSize > 0 ? inside / outSize : 0);
  }
  return fr;
}

function convMean(node: NodeProto, w: Float32Array, dims: number[], m: number[], spatial: number[]): Float64Array {
  const O = dims[0];
  const Cg = dims[1];
  const kernel = dims.slice(2);
  const r = kernel.length;
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  let pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
  const autoPad = node.attribute?.find((a) => a.name === 'auto_pad')?.s;
  const ap = autoPad ? new TextDecoder().decode(autoPad) : 'NOTSET';
  if (ap === 'SAME_UPPER' || ap === 'SAME_LOWER') {
    pads = new Array(2 * r).fill(0);
    for (let a = 0; a < r; a++) {
      const out = Math.ceil(spatial[a] / strides[a]);
      const total = Math.max(0, (out - 1) * strides[a] + (kernel[a] - 1) * dil[a] + 1 - spatial[a]);
      const small = Math.floor(total / 2);
      pads[a] = ap === 'SAME_UPPER' ? small : total - small;
      pads[a + r] = total - pads[a];
    }
  } else if (ap === 'VALID') pads = new Array(2 * r).fill(0);
  const group = attrInt(node, 'group', 1);
  const fr = kernel.map((k, a) => tapFractions(spatial[a] ?? 1, k, strides[a], dil[a], pads[a], pads[a + r]));
  // weight of each kernel position = product of per-axis fractions
  const taps = kernel.reduce((a, b) => a * b, 1);
  const tapW = new Float64Array(taps);
  for (let t = 0; t < taps; t++) {
    let rem = t;
    let f = 1;
    for (let a = r - 1; a >= 0; a--) {
      f *= fr[a][rem % kernel[a]];
      rem = Math.floor(rem / kernel[a]);
    }
    tapW[t] = f;
  }
  const outPerGroup = O / group;
  const out = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / outPerGroup);
    let s = 0;
    for (let ci = 0; ci < Cg; ci++) {
      const mean = m[g * Cg + ci];
      const base = (o * Cg + ci) * taps;
      let acc = 0;
      for (let t = 0; t < taps; t++) acc += w[base + t] * tapW[t];
      s += mean * acc;
    }
    out[o] = s;
  }
  return out;
}
