// From statistics to quantizer grids (POT
// `algorithms/quantization/fake_quantize.py::symmetric_range / asymmetric_range / tune_range /
// fix_zero_filters_*`, `minmax/algorithm.py::fill_fq_range`).
//
// Every quantizer is an integer grid: real value = (q − zeroPoint) · scale, q ∈ [qmin, qmax],
// with `scale` a float32 and `zeroPoint` an integer, so it maps 1:1 onto ONNX
// QuantizeLinear→DequantizeLinear. `low`/`high` are derived from the grid
// (low = (qmin − zp)·scale, high = (qmax − zp)·scale, float32), so they and the grid agree to
// float precision.
//
// Deviations from POT, chosen so that the grid always has an integer zero point:
// - `clipping_value` is applied to the statistics before the range is built (POT clips the
//   finished FQ range, which can move zero off the grid). For symmetric quantizers only the max
//   side's clipping value applies (caps the abs-max); a min-side clipping value is ignored,
//   because a one-sided low clip cannot be expressed on a symmetric grid.
// - Unified (Concat) ranges are snapped back onto a grid (see `paramsFromRange`).
// - When `tune_range` finds the zero level at 0 or L−1 it leaves the range unchanged in POT
//   (zero off the grid); we put the border that is less than half a step from zero on zero.
//
// Pure TS: no DOM, no Node APIs.

import { QuantizeError, type QuantizerParams, type QuantMode } from '../types';
import { quantileSorted, type StatType, type WeightEstimator } from './estimators';

const f32 = Math.fround;

/** Round half to even (numpy `np.round`, ONNX QuantizeLinear). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** POT `fix_zero_filters_symmetric` (eps 0.01): `max(max, max(8e-5, 0.01·global_max))`. */
export function fixZeroFiltersSymmetric(max: ArrayLike<number>, eps = 0.01): Float64Array {
  let g = -Infinity;
  for (let i = 0; i < max.length; i++) if (max[i] > g) g = max[i];
  const floor = Math.max(8e-5, eps * g);
  return Float64Array.from(max, (m) => Math.max(floor, m));
}

/**
 * POT `fix_zero_filters_asymmetric` (eps 1e-8): ranges ≤ `8 * 10e-5` (= 8e-4) are widened by
 * 8e-4 on each side; larger ranges by `(max(eps·r, r) − r)/2`, i.e. not at all.
 */
export function fixZeroFiltersAsymmetric(min: ArrayLike<number>, max: ArrayLike<number>, eps = 1e-8): { min: Float64Array; max: Float64Array } {
  const minCorrection = 8 * 10e-5;
  const lo = new Float64Array(min.length);
  const hi = new Float64Array(max.length);
  for (let i = 0; i < min.length; i++) {
    const r = max[i] - min[i];
    const c = r > minCorrection ? (Math.max(eps * r, r) - r) * 0.5 : minCorrection;
    hi[i] = max[i] + c;
    lo[i] = min[i] - c;
  }
  return { min: lo, max: hi };
}

/**
 * POT `tune_range(a, b, num_bits)` for one channel: move one border so that zero falls exactly on
 * the level `round(−a·L/(b−a))` (L = 2^bits − 1), keeping the wider candidate so the original
 * range is never shrunk. Expects a ≤ 0 ≤ b, b > a.
 */
export function tuneRange(a: number, b: number, levelHigh = 255): [number, number] {
  const s = levelHigh / (b - a);
  const qval = roundHalfEven(-a * s);
  const ra = qval < levelHigh ? (qval / (qval - levelHigh)) * b : a;
  const rb = qval > 0 ? ((qval - levelHigh) / qval) * a : b;
  const rangeA = b - ra;
  const rangeB = rb - a;
  return rangeA > rangeB ? [ra, b] : [a, rb];
}

// ---------------------------------------------------------------------------------------------
// Grids

function finish(scale: Float32Array, zp: Int32Array, qmin: number, qmax: number, dtype: 'int8' | 'uint8'): QuantizerParams {
  const n = scale.length;
  const low = new Float32Array(n);
  const high = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (!(scale[i] > 0) || !Number.isFinite(scale[i])) {
      throw new QuantizeError(`invalid quantization scale ${scale[i]} (channel ${i})`, { expected: 'a finite positive scale' });
    }
    low[i] = f32((qmin - zp[i]) * scale[i]);
    high[i] = f32((qmax - zp[i]) * scale[i]);
  }
  return { scale, zeroPoint: zp, qmin, qmax, dtype, low, high };
}

function checkLevels(levels: number): void {
  if (!Number.isInteger(levels) || levels < 3 || levels > 256) {
    throw new QuantizeError(`unsupported number of levels ${levels}`, { expected: '3..256 (8-bit storage)' });
  }
}

/** Symmetric grid `[−max, max]`, zero point 0. `narrow`: ±(L−1)/2 (weights, L = 255); else
 * signed [−L/2, L/2 − 1] (activations, L = 256: low border −max·L/(L−2)). */
function signedGrid(max: ArrayLike<number>, levels: number, narrow: boolean): QuantizerParams {
  checkLevels(levels);
  const qmax = narrow ? (levels - 1) / 2 : levels / 2 - 1;
  const qmin = narrow ? -qmax : -levels / 2;
  if (!Number.isInteger(qmax)) throw new QuantizeError(`narrow symmetric grid needs an odd number of levels, got ${levels}`);
  const scale = Float32Array.from(max, (m) => f32(m / qmax));
  return finish(scale, new Int32Array(max.length), qmin, qmax, 'int8');
}

/** Unsigned grid `[0, max]`, zero point 0. */
function unsignedGrid(max: ArrayLike<number>, levels: number): QuantizerParams {
  checkLevels(levels);
  const qmax = levels - 1;
  const scale = Float32Array.from(max, (m) => f32(m / qmax));
  return finish(scale, new Int32Array(max.length), 0, qmax, 'uint8');
}

/**
 * Asymmetric grid from a tuned range `[a, b]` (a ≤ 0 ≤ b): scale (b−a)/(L−1), zp round(−a/scale).
 * When the zero level rounds to 0 (or L−1), POT's `tune_range` leaves the range as it is and zero
 * falls between levels; an integer grid cannot do that, so the border less than half a step from
 * zero is put on zero instead (`[0, b]`, resp. `[a, 0]`), the other border kept.
 */
function asymmetricGrid(a: ArrayLike<number>, b: ArrayLike<number>, levels: number): QuantizerParams {
  checkLevels(levels);
  const qmax = levels - 1;
  const n = a.length;
  const scale = new Float32Array(n);
  const zp = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const z = Math.min(qmax, Math.max(0, roundHalfEven((-a[i] * qmax) / (b[i] - a[i]))));
    zp[i] = z;
    scale[i] = f32(z === 0 ? b[i] / qmax : z === qmax ? -a[i] / qmax : (b[i] - a[i]) / qmax);
    if (z > 0 && z < qmax) zp[i] = Math.min(qmax - 1, Math.max(1, roundHalfEven(-a[i] / scale[i])));
  }
  return finish(scale, zp, 0, qmax, 'uint8');
}

/** POT `asymmetric_range` on min/max vectors: widen degenerate ranges, clamp to include 0, tune_range. */
function asymmetricFromMinMax(min: ArrayLike<number>, max: ArrayLike<number>, levels: number): QuantizerParams {
  if (min.length !== max.length) throw new QuantizeError(`min/max length mismatch (${min.length} vs ${max.length})`);
  const fixed = fixZeroFiltersAsymmetric(min, max);
  const a = new Float64Array(min.length);
  const b = new Float64Array(min.length);
  for (let i = 0; i < a.length; i++) {
    const lo = fixed.min[i] < 0 ? fixed.min[i] : 0;
    const hi = fixed.max[i] > 0 ? fixed.max[i] : 0;
    [a[i], b[i]] = tuneRange(lo, hi, levels - 1);
  }
  return asymmetricGrid(a, b, levels);
}

// ---------------------------------------------------------------------------------------------
// Activations

export interface ActivationRangeOptions {
  /** 256 unless the config says otherwise. */
  levels?: number;
  /** Range-estimator `clipping_value` of the min side (floor for the min statistic). */
  clipMin?: number;
  /** Range-estimator `clipping_value` of the max side (cap for the max / abs-max statistic). */
  clipMax?: number;
  /** Hardware config with `level_low < 0` (never on CPU): always use the signed grid. */
  signed?: boolean;
}

/**
 * POT `symmetric_range` for activations. `absMax`: aggregated abs-max (per tensor: length 1; per
 * channel: one per channel); `min`: aggregated min, used only to decide signedness.
 * - max is floored with `fix_zero_filters_symmetric`;
 * - every min ≥ 0 (and not forced signed): unsigned `[0, max]`, uint8, scale max/255, zp 0;
 * - otherwise `[−max·256/254, max]`: int8 [−128, 127], scale max/127, zp 0.
 */
export function symmetricActivationParams(absMax: ArrayLike<number>, min: ArrayLike<number>, opts: ActivationRangeOptions = {}): QuantizerParams {
  const levels = opts.levels ?? 256;
  let m: ArrayLike<number> = absMax;
  if (opts.clipMax !== undefined) m = Float64Array.from(absMax, (v) => Math.min(v, opts.clipMax as number));
  const max = fixZeroFiltersSymmetric(m);
  let allNonNegative = true;
  for (let i = 0; i < min.length; i++) if (!(min[i] >= 0)) allNonNegative = false;
  return allNonNegative && !opts.signed ? unsignedGrid(max, levels) : signedGrid(max, levels, false);
}

/** POT `fake_quantize.py::asymmetric_range` for activations, uint8 with zp = round(−low/scale). */
export function asymmetricActivationParams(min: ArrayLike<number>, max: ArrayLike<number>, opts: ActivationRangeOptions = {}): QuantizerParams {
  const { clipMin, clipMax } = opts;
  const lo = clipMin === undefined ? min : Float64Array.from(min, (v) => Math.max(v, clipMin));
  const hi = clipMax === undefined ? max : Float64Array.from(max, (v) => Math.min(v, clipMax));
  return asymmetricFromMinMax(lo, hi, opts.levels ?? 256);
}

/** Activation params from aggregated statistics (`max` is the abs-max for symmetric mode). */
export function activationParams(mode: QuantMode, stats: { min: ArrayLike<number>; max: ArrayLike<number> }, opts: ActivationRangeOptions = {}): QuantizerParams {
  return mode === 'symmetric' ? symmetricActivationParams(stats.max, stats.min, opts) : asymmetricActivationParams(stats.min, stats.max, opts);
}

// ---------------------------------------------------------------------------------------------
// Weights

/** Layout of a constant seen as [outer, channels, inner] around `axis`. */
function channelLayout(dims: number[], axis: number, length: number): { outer: number; channels: number; inner: number } {
  const r = dims.length;
  const a = axis < 0 ? axis + r : axis;
  if (!(a >= 0 && a < r)) throw new QuantizeError(`channel axis ${axis} out of range for shape [${dims.join(', ')}]`);
  const outer = dims.slice(0, a).reduce((x, y) => x * y, 1);
  const inner = dims.slice(a + 1).reduce((x, y) => x * y, 1);
  if (outer * dims[a] * inner !== length) {
    throw new QuantizeError(`data length ${length} does not match shape [${dims.join(', ')}]`);
  }
  return { outer, channels: dims[a], inner };
}

/**
 * Per-channel statistic of a constant over every axis but `axis` (POT `calculate_per_filter_stats`:
 * min, max, abs_max, and quantile / abs_quantile with numpy's linear interpolation).
 */
export function channelStat(w: Float32Array, dims: number[], axis: number, type: StatType, q?: number): Float64Array {
  const { outer, channels, inner } = channelLayout(dims, axis, w.length);
  const out = new Float64Array(channels);
  const quant = type === 'quantile' || type === 'abs_quantile';
  if (quant && q === undefined) throw new QuantizeError(`weight statistic '${type}' needs a quantile level`);
  const buf = quant ? new Float32Array(outer * inner) : null;
  for (let c = 0; c < channels; c++) {
    let r = type === 'min' ? Infinity : type === 'max' ? -Infinity : 0;
    let k = 0;
    for (let o = 0; o < outer; o++) {
      const off = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = w[off + i];
        if (buf) buf[k++] = type === 'abs_quantile' ? Math.abs(v) : v;
        else if (type === 'min') {
          if (v < r) r = v;
        } else if (type === 'max') {
          if (v > r) r = v;
        } else {
          const av = Math.abs(v);
          if (av > r) r = av;
        }
      }
    }
    out[c] = buf ? quantileSorted(buf.sort(), q as number) : r;
  }
  return out;
}

export interface WeightRangeOptions {
  /** 255 for symmetric (narrow ±127), 256 for asymmetric, unless the config says otherwise. */
  levels?: number;
  /** Statistic types (default: abs_max for symmetric, min/max for asymmetric). */
  estimator?: WeightEstimator;
}

function weightSide(est: WeightEstimator | undefined, side: 'min' | 'max', fallback: StatType) {
  const s = est?.[side];
  const type = s?.type ?? fallback;
  const p = s?.outlier_prob ?? 1e-4;
  const q = type === 'quantile' || type === 'abs_quantile' ? (side === 'max' ? 1 - p : p) : undefined;
  return { type, q, clip: s?.clipping_value };
}

/**
 * Symmetric per-channel weights: abs-max per channel along `axis` (0 for Conv / Gemm transB=1,
 * 1 for MatMul [K,N], Gemm transB=0 and ConvTranspose), zero-filter floor, range [−max, max],
 * 255 levels → int8 [−127, 127], scale max/127, zp 0.
 */
export function symmetricWeightParams(w: Float32Array, dims: number[], axis: number, opts: WeightRangeOptions = {}): QuantizerParams {
  const s = weightSide(opts.estimator, 'max', 'abs_max');
  let max = channelStat(w, dims, axis, s.type, s.q);
  if (s.clip !== undefined) max = max.map((v) => Math.min(v, s.clip as number));
  return signedGrid(fixZeroFiltersSymmetric(max), opts.levels ?? 255, true);
}

/**
 * Asymmetric per-channel weights: min/max per channel, `fix_zero_filters_asymmetric`, clamp
 * min ≤ 0 ≤ max, `tune_range`, 256 levels → uint8 [0, 255], scale (high−low)/255, zp round(−low/scale).
 */
export function asymmetricWeightParams(w: Float32Array, dims: number[], axis: number, opts: WeightRangeOptions = {}): QuantizerParams {
  const smin = weightSide(opts.estimator, 'min', 'min');
  const smax = weightSide(opts.estimator, 'max', 'max');
  let min = channelStat(w, dims, axis, smin.type, smin.q);
  let max = channelStat(w, dims, axis, smax.type, smax.q);
  if (smin.clip !== undefined) min = min.map((v) => Math.max(v, smin.clip as number));
  if (smax.clip !== undefined) max = max.map((v) => Math.min(v, smax.clip as number));
  return asymmetricFromMinMax(min, max, opts.levels ?? 256);
}

export function weightParams(mode: QuantMode, w: Float32Array, dims: number[], axis: number, opts: WeightRangeOptions = {}): QuantizerParams {
  return mode === 'symmetric' ? symmetricWeightParams(w, dims, axis, opts) : asymmetricWeightParams(w, dims, axis, opts);
}

// ---------------------------------------------------------------------------------------------
// Unification (Concat)

/** POT `unify_fq_scales`: element-wise min of the lows and max of the highs (length-1 entries broadcast). */
export function unifyRanges(list: { low: ArrayLike<number>; high: ArrayLike<number> }[]): { low: Float64Array; high: Float64Array } {
  if (list.length === 0) throw new QuantizeError('unifyRanges: empty group');
  const n = Math.max(...list.map((r) => Math.max(r.low.length, r.high.length)));
  const low = new Float64Array(n).fill(Infinity);
  const high = new Float64Array(n).fill(-Infinity);
  for (const r of list) {
    for (const [src, dst, pick] of [
      [r.low, low, Math.min],
      [r.high, high, Math.max],
    ] as const) {
      if (src.length !== 1 && src.length !== n) throw new QuantizeError(`unifyRanges: cannot broadcast length ${src.length} to ${n}`);
      for (let i = 0; i < n; i++) dst[i] = pick(dst[i], src[src.length === 1 ? 0 : i]);
    }
  }
  return { low, high };
}

/**
 * Snap a real range back onto a grid of the given mode (used after unification):
 * - symmetric: all lows ≥ 0 → unsigned `[0, high]`; otherwise signed with
 *   `max = max(high, −low·(L−2)/L)`, the smallest int8 grid that contains the range (equals the
 *   inputs' grid when they were all signed or all unsigned; POT would keep the raw union, whose
 *   zero may fall between levels);
 * - asymmetric: clamp to include 0 and `tune_range` (a no-op on already tuned ranges).
 */
export function paramsFromRange(low: ArrayLike<number>, high: ArrayLike<number>, mode: QuantMode, levels = 256): QuantizerParams {
  if (mode === 'asymmetric') return asymmetricFromMinMax(low, high, levels);
  let allNonNegative = true;
  for (let i = 0; i < low.length; i++) if (!(low[i] >= 0)) allNonNegative = false;
  if (allNonNegative)
    return unsignedGrid(
      Float64Array.from(high, (h) => Math.max(h, 8e-5)),
      levels,
    );
  const max = Float64Array.from(high, (h, i) => Math.max(h, (-low[i] * (levels - 2)) / levels, 8e-5));
  return signedGrid(max, levels, false);
}

/** Unify several activation quantizers (one Concat group) and rebuild one shared grid. */
export function unifyParams(list: QuantizerParams[], mode: QuantMode): QuantizerParams {
  if (list.length === 0) throw new QuantizeError('unifyParams: empty group');
  const levels = list[0].qmax - list[0].qmin + 1;
  const u = unifyRanges(list);
  return paramsFromRange(u.low, u.high, mode, levels);
}

// ---------------------------------------------------------------------------------------------
// Applying a grid

function forEachChannel(x: Float32Array, dims: number[], p: QuantizerParams, axis: number, fn: (i: number, c: number) => void): void {
  const C = p.scale.length;
  if (C === 1) {
    for (let i = 0; i < x.length; i++) fn(i, 0);
    return;
  }
  const { outer, channels, inner } = channelLayout(dims, axis, x.length);
  if (channels !== C) throw new QuantizeError(`quantizer has ${C} channels but axis ${axis} of [${dims.join(', ')}] has ${channels}`);
  let i = 0;
  for (let o = 0; o < outer; o++) for (let c = 0; c < C; c++) for (let k = 0; k < inner; k++) fn(i++, c);
}

/**
 * Fake quantization exactly as ONNX QuantizeLinear→DequantizeLinear computes it, in float32:
 * `q = roundHalfEven(fround(x / scale))`, clipped to `[qmin − zp, qmax − zp]`, then
 * `fround(q · scale)`. `axis` is the channel axis of per-channel params (ignored per-tensor).
 */
export function fakeQuantize(x: Float32Array, dims: number[], p: QuantizerParams, axis = 1): Float32Array {
  const y = new Float32Array(x.length);
  forEachChannel(x, dims, p, axis, (i, c) => {
    const s = p.scale[c];
    const zp = p.zeroPoint[c];
    let q = roundHalfEven(f32(x[i] / s));
    if (q < p.qmin - zp) q = p.qmin - zp;
    else if (q > p.qmax - zp) q = p.qmax - zp;
    y[i] = f32(q * s);
  });
  return y;
}

/** QuantizeLinear: `clip(roundHalfEven(fround(x / scale)) + zp, qmin, qmax)` as int8 / uint8. */
export function quantizeToInt(x: Float32Array, dims: number[], p: QuantizerParams, axis = 1): Int8Array | Uint8Array {
  const out = p.dtype === 'int8' ? new Int8Array(x.length) : new Uint8Array(x.length);
  forEachChannel(x, dims, p, axis, (i, c) => {
    let q = roundHalfEven(f32(x[i] / p.scale[c])) + p.zeroPoint[c];
    if (q < p.qmin) q = p.qmin;
    else if (q > p.qmax) q = p.qmax;
    out[i] = q;
  });
  return out;
}
