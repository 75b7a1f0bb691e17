// From decoded 8-bit pixels to a Float32Array in the model's layout. Steps run in the config's
// order on 0..255 float values (no intermediate rounding): color conversion first, then resize /
// crop / normalization as declared, then the NCHW or NHWC layout.

import { QuantizeError } from '../types';
import type { DatasetConfig, PreprocessingStep } from '../config/types';

export type ColorMode = DatasetConfig['color'];
export type Layout = 'NCHW' | 'NHWC';

/** 8-bit pixels, HWC. Decoded images are gray or RGB; arrays may hold any channel order. */
export interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: ArrayLike<number>;
}

/** Float pixels, HWC. */
export interface FloatImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

export interface PreprocessOptions {
  color: ColorMode;
  steps: readonly PreprocessingStep[];
  layout: Layout;
  /** Expected sample shape (no batch) in `layout`; -1 matches any size. */
  sampleShape?: readonly number[];
  /** Named in errors. */
  file?: string;
  /**
   * Channel order of 3-channel input: 'rgb' (decoded image files, converted to `color`) or
   * 'as-is' (raw arrays, taken to be in the `color` order already).
   */
  inputOrder?: 'rgb' | 'as-is';
}

/** Runs the whole pipeline; returns the sample and its dims (no batch). */
export function preprocessPixels(px: Pixels, opts: PreprocessOptions): { data: Float32Array; dims: number[] } {
  const file = opts.file;
  let img = convertColor(px, opts.color, opts.inputOrder ?? 'rgb', file);
  for (const [i, step] of opts.steps.entries()) {
    const field = `preprocessing[${i}]`;
    if (step.type === 'resize') {
      const [h, w] = stepSize(step, field);
      img = resizeBilinear(img, h, w);
    } else if (step.type === 'crop') {
      const [h, w] = stepSize(step, field);
      img = centerCrop(img, h, w, file);
    } else if (step.type === 'normalization') {
      normalizeHwc(img, step.mean, step.std, field);
    } else {
      throw new QuantizeError(`unknown preprocessing type '${(step as { type: string }).type}'`, {
        field: `${field}.type`,
        expected: 'resize, crop or normalization',
      });
    }
  }
  const out = toLayout(img, opts.layout);
  if (opts.sampleShape) checkSampleShape(out.dims, opts.sampleShape, opts.layout, file);
  return out;
}

/** Error naming the file and both shapes unless `dims` matches `expected` (-1 = any). */
export function checkSampleShape(dims: readonly number[], expected: readonly number[], layout: Layout, file?: string): void {
  const ok = dims.length === expected.length && dims.every((d, i) => expected[i] < 0 || expected[i] === d);
  if (ok) return;
  const fmt = (s: readonly number[]) => s.map((d) => (d < 0 ? '?' : String(d))).join('×');
  throw new QuantizeError(`preprocessed sample is ${fmt(dims)} (${layout}) but the model input expects ${fmt(expected)}`, {
    file,
    expected: 'a resize/crop in dataset.preprocessing (or the right color) so that sizes match',
  });
}

/** [dst_height, dst_width] of a resize or crop step. */
export function stepSize(step: PreprocessingStep, field = 'preprocessing'): [number, number] {
  const okDim = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (step.dst_height !== undefined || step.dst_width !== undefined) {
    if (!okDim(step.dst_height) || !okDim(step.dst_width)) {
      throw new QuantizeError(`${step.type} needs both dst_height and dst_width as positive integers`, { field, expected: 'dst_height and dst_width ≥ 1' });
    }
    return [step.dst_height!, step.dst_width!];
  }
  if (!okDim(step.size))
    throw new QuantizeError(`${step.type} needs 'size' (or dst_height and dst_width) as a positive integer`, { field, expected: 'size ≥ 1, or dst_height and dst_width ≥ 1' });
  return [step.size!, step.size!];
}

/** To float HWC in the `color` order: gray (1 channel) or RGB/BGR (3). */
export function convertColor(px: Pixels, color: ColorMode, inputOrder: 'rgb' | 'as-is' = 'rgb', file?: string): FloatImage {
  const { width, height, channels: c } = px;
  const n = width * height;
  const src = px.data;
  if (src.length < n * c) throw new QuantizeError(`pixel buffer too short: ${src.length} < ${width}×${height}×${c}`, { file, expected: `${width * height * c} bytes` });
  if (c === 1) {
    const data = new Float32Array(color === 'gray' ? n : 3 * n);
    if (color === 'gray') for (let i = 0; i < n; i++) data[i] = src[i];
    else for (let i = 0; i < n; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = src[i];
    return { width, height, channels: color === 'gray' ? 1 : 3, data };
  }
  if (c !== 3) {
    throw new QuantizeError(`images with ${c} channels are not supported`, { file, expected: '1 (gray) or 3 channels' });
  }
  if (color === 'gray') {
    if (inputOrder !== 'rgb') {
      throw new QuantizeError('dataset.color is gray but the array has 3 channels in an unknown order', {
        file,
        field: 'dataset.color',
        expected: 'gray arrays shaped [N,H,W] or [N,H,W,1], or color rgb/bgr',
      });
    }
    const data = new Float32Array(n);
    // 0.299 R + 0.587 G + 0.114 B, rounded half up, in exact integer arithmetic.
    for (let i = 0; i < n; i++) data[i] = Math.floor((299 * src[3 * i] + 587 * src[3 * i + 1] + 114 * src[3 * i + 2] + 500) / 1000);
    return { width, height, channels: 1, data };
  }
  const data = new Float32Array(3 * n);
  if (color === 'bgr' && inputOrder === 'rgb') {
    for (let i = 0; i < n; i++) {
      data[3 * i] = src[3 * i + 2];
      data[3 * i + 1] = src[3 * i + 1];
      data[3 * i + 2] = src[3 * i];
    }
  } else {
    for (let i = 0; i < 3 * n; i++) data[i] = src[i];
  }
  return { width, height, channels: 3, data };
}

/**
 * Bilinear resize like OpenCV's INTER_LINEAR: half-pixel centres, src = (dst + 0.5)·(in/out) − 0.5,
 * clamped to the border (no extrapolation). Float in, float out (no rounding).
 */
export function resizeBilinear(img: FloatImage, dstH: number, dstW: number): FloatImage {
  const { width: sw, height: sh, channels: c, data: src } = img;
  if (dstH === sh && dstW === sw) return img;
  const xs = axisTaps(sw, dstW);
  const ys = axisTaps(sh, dstH);
  const out = new Float32Array(dstH * dstW * c);
  for (let y = 0; y < dstH; y++) {
    const y0 = ys.i0[y],
      y1 = ys.i1[y],
      fy = ys.f[y];
    for (let x = 0; x < dstW; x++) {
      const x0 = xs.i0[x],
        x1 = xs.i1[x],
        fx = xs.f[x];
      const o = (y * dstW + x) * c;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * sw + x0) * c + k],
          b = src[(y0 * sw + x1) * c + k];
        const d = src[(y1 * sw + x0) * c + k],
          e = src[(y1 * sw + x1) * c + k];
        const top = a + (b - a) * fx;
        const bot = d + (e - d) * fx;
        out[o + k] = top + (bot - top) * fy;
      }
    }
  }
  return { width: dstW, height: dstH, channels: c, data: out };
}

function axisTaps(srcN: number, dstN: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const scale = srcN / dstN;
  const i0 = new Int32Array(dstN),
    i1 = new Int32Array(dstN),
    f = new Float64Array(dstN);
  for (let d = 0; d < dstN; d++) {
    const s = (d + 0.5) * scale - 0.5;
    let s0 = Math.floor(s);
    let fr = s - s0;
    if (s0 < 0) {
      s0 = 0;
      fr = 0;
    }
    if (s0 >= srcN - 1) {
      s0 = srcN - 1;
      fr = 0;
    }
    i0[d] = s0;
    i1[d] = Math.min(s0 + 1, srcN - 1);
    f[d] = fr;
  }
  return { i0, i1, f };
}

/** Centre crop; the offset is floor((in − out) / 2) on each axis. */
export function centerCrop(img: FloatImage, dstH: number, dstW: number, file?: string): FloatImage {
  const { width: sw, height: sh, channels: c, data: src } = img;
  if (dstH > sh || dstW > sw) {
    throw new QuantizeError(`cannot centre-crop a ${sh}×${sw} image to ${dstH}×${dstW}`, {
      file,
      expected: 'a crop no larger than the image (add a resize before the crop)',
    });
  }
  if (dstH === sh && dstW === sw) return img;
  const top = Math.floor((sh - dstH) / 2);
  const left = Math.floor((sw - dstW) / 2);
  const out = new Float32Array(dstH * dstW * c);
  for (let y = 0; y < dstH; y++) {
    const from = ((top + y) * sw + left) * c;
    out.set(src.subarray(from, from + dstW * c), y * dstW * c);
  }
  return { width: dstW, height: dstH, channels: c, data: out };
}

/** Per-channel mean/std (scalar or one value per channel), length-checked against `channels`. */
export function channelParams(v: number | number[] | undefined, dflt: number, channels: number, field: string): Float64Array {
  const arr = v === undefined ? [dflt] : typeof v === 'number' ? [v] : v;
  if (arr.length !== 1 && arr.length !== channels) {
    throw new QuantizeError(`has ${arr.length} values for ${channels} channel(s)`, { field, expected: `1 or ${channels} values` });
  }
  if (!arr.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new QuantizeError('must be finite numbers', { field, expected: 'finite numbers' });
  const out = new Float64Array(channels);
  for (let k = 0; k < channels; k++) out[k] = arr.length === 1 ? arr[0] : arr[k];
  return out;
}

/** In place: (x − mean) / std per channel of an HWC image. */
export function normalizeHwc(img: FloatImage, mean: number | number[] | undefined, std: number | number[] | undefined, field = 'normalization'): void {
  const c = img.channels;
  const m = channelParams(mean, 0, c, `${field}.mean`);
  const s = channelParams(std, 1, c, `${field}.std`);
  if (s.some((x) => x === 0)) throw new QuantizeError('std must not be 0', { field: `${field}.std`, expected: 'a non-zero std per channel' });
  const d = img.data;
  for (let i = 0; i < d.length; i += c) for (let k = 0; k < c; k++) d[i + k] = (d[i + k] - m[k]) / s[k];
}

/**
 * In place: (x − mean) / std on a sample tensor already in the model layout (float .npy inputs).
 * The channel axis is dims[0] for NCHW and the last axis for NHWC (3-D samples); other ranks
 * accept scalar mean/std only.
 */
export function normalizeTensor(
  data: Float32Array,
  dims: readonly number[],
  layout: Layout,
  mean: number | number[] | undefined,
  std: number | number[] | undefined,
  field = 'normalization',
): void {
  const rank3 = dims.length === 3;
  const c = rank3 ? (layout === 'NCHW' ? dims[0] : dims[2]) : 1;
  const m = channelParams(mean, 0, c, `${field}.mean`);
  const s = channelParams(std, 1, c, `${field}.std`);
  if (s.some((x) => x === 0)) throw new QuantizeError('std must not be 0', { field: `${field}.std`, expected: 'a non-zero std per channel' });
  const plane = rank3 && layout === 'NCHW' ? dims[1] * dims[2] : 1;
  for (let i = 0; i < data.length; i++) {
    const k = c === 1 ? 0 : layout === 'NCHW' ? Math.floor(i / plane) % c : i % c;
    data[i] = (data[i] - m[k]) / s[k];
  }
}

/** HWC float image → [C,H,W] (NCHW) or [H,W,C] (NHWC). */
export function toLayout(img: FloatImage, layout: Layout): { data: Float32Array; dims: number[] } {
  const { width: w, height: h, channels: c, data } = img;
  if (layout === 'NHWC') return { data, dims: [h, w, c] };
  if (c === 1) return { data, dims: [1, h, w] };
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) out[k * plane + p] = data[p * c + k];
  return { data: out, dims: [c, h, w] };
}
