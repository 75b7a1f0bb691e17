import { describe, expect, it } from 'vitest';
import {
  activationParams,
  asymmetricActivationParams,
  asymmetricWeightParams,
  fakeQuantize,
  fixZeroFiltersAsymmetric,
  paramsFromRange,
  quantizeToInt,
  roundHalfEven,
  symmetricActivationParams,
  symmetricWeightParams,
  tuneRange,
  unifyParams,
  unifyRanges,
  weightParams,
} from '../../src/core/quant/ranges';
import type { QuantizerParams } from '../../src/core/types';

const f = Math.fround;
const arr = (a: ArrayLike<number>) => Array.from(a);
/** Equal to float32 precision (relative 1e-6, absolute 1e-9). */
const near = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(a), Math.abs(b)) + 1e-9);

/** low = (qmin − zp)·scale and high = (qmax − zp)·scale hold on every channel. */
function expectConsistent(p: QuantizerParams) {
  for (let i = 0; i < p.scale.length; i++) {
    expect(Number.isInteger(p.zeroPoint[i])).toBe(true);
    expect(p.zeroPoint[i]).toBeGreaterThanOrEqual(p.qmin);
    expect(p.zeroPoint[i]).toBeLessThanOrEqual(p.qmax);
    expect(p.low[i]).toBe(f((p.qmin - p.zeroPoint[i]) * p.scale[i]));
    expect(p.high[i]).toBe(f((p.qmax - p.zeroPoint[i]) * p.scale[i]));
  }
}

describe('roundHalfEven', () => {
  it('rounds ties to even, like np.round and QuantizeLinear', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 4, 0, -2, -2, -4, 2, 3]);
  });
});

describe('symmetric activations', () => {
  it('signed: low border −max·256/254, int8 [−128, 127], scale max/127', () => {
    // abs-max 2.54, some min < 0: scale = 2.54/127 = 0.02, low = −128·0.02 = −2.56 = −2.54·256/254
    const p = symmetricActivationParams([2.54], [-1]);
    expect(p.dtype).toBe('int8');
    expect([p.qmin, p.qmax, p.zeroPoint[0]]).toEqual([-128, 127, 0]);
    expect(p.scale[0]).toBe(f(0.02));
    near(p.low[0], -2.56);
    near(p.high[0], 2.54);
    expectConsistent(p);
  });

  it('unsigned when every aggregated min ≥ 0: [0, max], uint8, scale max/255', () => {
    // abs-max 5.1 → scale 5.1/255 = 0.02
    const p = symmetricActivationParams([5.1], [0]);
    expect(p.dtype).toBe('uint8');
    expect([p.qmin, p.qmax, p.zeroPoint[0]]).toEqual([0, 255, 0]);
    expect(p.scale[0]).toBe(f(0.02));
    expect(p.low[0]).toBe(0);
    near(p.high[0], 5.1);
    // a hardware config with level_low < 0 forces the signed grid
    expect(symmetricActivationParams([5.1], [0], { signed: true }).dtype).toBe('int8');
    // per-channel: one negative channel min (min is per tensor in POT, but any negative → signed)
    expect(symmetricActivationParams([1, 2], [0, -0.1]).dtype).toBe('int8');
  });

  it('floors a zero range at 8e-5', () => {
    const p = symmetricActivationParams([0], [0]);
    expect(p.scale[0]).toBe(f(8e-5 / 255));
  });

  it('clipping_value caps the abs-max', () => {
    // abs-max 10 clipped to 5.08 → signed scale 5.08/127 = 0.04
    const p = symmetricActivationParams([10], [-3], { clipMax: 5.08 });
    expect(p.scale[0]).toBe(f(0.04));
  });
});

describe('asymmetric ranges (fix_zero_filters_asymmetric, clamp, tune_range)', () => {
  it('tune_range on [−0.3, 1.0] moves the low border', () => {
    // s = 255/1.3 = 196.154; −a·s = 58.846 → zero level 59.
    // candidate A (move low): ra = 59/(59−255)·1.0 = −59/196 = −0.3010204; width 1.3010204
    // candidate B (move high): rb = (59−255)/59·(−0.3) = 0.9966102; width 1.2966102
    // A is wider → [−59/196, 1.0]: scale = (255/196)/255 = 1/196, zp = 59
    const [a, b] = tuneRange(-0.3, 1.0);
    near(a, -59 / 196);
    expect(b).toBe(1.0);
    const p = asymmetricActivationParams([-0.3], [1.0]);
    expect(p.dtype).toBe('uint8');
    expect([p.qmin, p.qmax, p.zeroPoint[0]]).toEqual([0, 255, 59]);
    near(p.scale[0], 1 / 196);
    near(p.low[0], -59 / 196);
    near(p.high[0], 1.0);
    expectConsistent(p);
  });

  it('tune_range on [−1.0, 0.3] moves the high border', () => {
    // −a·s = 196.154 → 196; A: ra = 196/(−59)·0.3 = −0.9966 (width 1.2966);
    // B: rb = (−59/196)·(−1) = 59/196 = 0.30102 (width 1.30102) → B: [−1, 59/196], scale 1/196, zp 196
    const p = asymmetricActivationParams([-1.0], [0.3]);
    expect(p.zeroPoint[0]).toBe(196);
    near(p.scale[0], 1 / 196);
    near(p.low[0], -1.0);
    near(p.high[0], 59 / 196);
  });

  it('clamps to include zero', () => {
    // [0.2, 1.0] → [0, 1.0]: zp 0, scale 1/255
    const p = asymmetricActivationParams([0.2], [1.0]);
    expect(p.zeroPoint[0]).toBe(0);
    near(p.scale[0], 1 / 255);
    expect(p.low[0]).toBe(0);
    // [−0.001, 1.0]: zero level round(0.001·255/1.001) = round(0.25) = 0; POT's tune_range keeps
    // the range (zero off the grid); the integer grid puts the low border on 0 → [0, 1], 1/255
    const t = asymmetricActivationParams([-0.001], [1.0]);
    expect(t.zeroPoint[0]).toBe(0);
    expect(t.scale[0]).toBe(f(1 / 255));
    near(t.high[0], 1.0);
    // [−2, −0.5] → [−2, 0]: zp 255
    const q = asymmetricActivationParams([-2], [-0.5]);
    expect(q.zeroPoint[0]).toBe(255);
    near(q.low[0], -2);
    expect(q.high[0]).toBe(0);
  });

  it('widens degenerate ranges by 8e-4 on each side', () => {
    const w = fixZeroFiltersAsymmetric([0.5, -1], [0.5, 1]);
    near(w.min[0], 0.4992);
    near(w.max[0], 0.5008);
    expect([w.min[1], w.max[1]]).toEqual([-1, 1]); // wide ranges untouched
    // min = max = 0.5 → [0.4992, 0.5008] → clamp [0, 0.5008] → zp 0, scale 0.5008/255
    const p = asymmetricActivationParams([0.5], [0.5]);
    expect(p.zeroPoint[0]).toBe(0);
    near(p.scale[0], 0.5008 / 255);
    // min = max = 0 → [−8e-4, 8e-4]; −a·s = 127.5 → ties to even: 128.
    // A: ra = 128/(−127)·8e-4 (width 8e-4·255/127) beats B (width 8e-4·255/128) → [−8e-4·128/127, 8e-4]
    const z = asymmetricActivationParams([0], [0]);
    expect(z.zeroPoint[0]).toBe(128);
    near(z.scale[0], 8e-4 / 127);
    near(z.low[0], (-8e-4 * 128) / 127);
    near(z.high[0], 8e-4);
  });

  it('clipping_value bounds both sides before tuning', () => {
    // [−10, 10] clipped to [−1, 1]; −a·s = 127.5 → 128 → [−128/127, 1]: scale 1/127, zp 128
    const p = asymmetricActivationParams([-10], [10], { clipMin: -1, clipMax: 1 });
    expect(p.zeroPoint[0]).toBe(128);
    near(p.scale[0], 1 / 127);
    near(p.low[0], -128 / 127);
    near(p.high[0], 1);
  });

  it('every grid contains the original range and has an integer zero point (random ranges)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let t = 0; t < 2000; t++) {
      const lo = -rnd() * 10 ** (rnd() * 6 - 3);
      const hi = rnd() * 10 ** (rnd() * 6 - 3);
      const p = activationParams('asymmetric', { min: [lo], max: [hi] });
      expectConsistent(p);
      const zp = p.zeroPoint[0];
      if (zp > 0 && zp < 255) {
        expect(p.low[0]).toBeLessThanOrEqual(lo * (1 - 1e-6) + 1e-12);
        expect(p.high[0]).toBeGreaterThanOrEqual(hi * (1 - 1e-6) - 1e-12);
      } else {
        // zero level 0 (or 255): POT's tune_range leaves [lo, hi] as is, with zero off the grid;
        // the integer grid puts that border on 0, less than half a step away
        const halfStep = ((0.5 * (hi - lo)) / 255) * (1 + 1e-6);
        expect(p.low[0]).toBeLessThanOrEqual(lo + halfStep);
        expect(p.high[0]).toBeGreaterThanOrEqual(hi - halfStep);
      }
      if (hi - lo <= 8e-4) continue; // degenerate ranges are widened on both sides
      // moved only one border: the other is the original one (to float precision)
      const lowMoved = Math.abs(p.low[0] - lo) > 1e-6 * Math.abs(lo) + 1e-12;
      const highMoved = Math.abs(p.high[0] - hi) > 1e-6 * Math.abs(hi) + 1e-12;
      expect(lowMoved && highMoved).toBe(false);
    }
  });
});

describe('weights', () => {
  it('symmetric per output channel: abs-max, zero-filter floor, ±127 int8', () => {
    // dims [3, 2], axis 0: ch0 [1, −2] → 2; ch1 [1e-6, 0] → floored to max(8e-5, 0.01·2) = 0.02; ch2 → 0.5
    const p = symmetricWeightParams(new Float32Array([1, -2, 1e-6, 0, 0.5, 0.1]), [3, 2], 0);
    expect([p.qmin, p.qmax, p.dtype]).toEqual([-127, 127, 'int8']);
    expect(arr(p.zeroPoint)).toEqual([0, 0, 0]);
    expect(arr(p.scale)).toEqual([f(2 / 127), f(0.02 / 127), f(0.5 / 127)]);
    near(p.low[1], -0.02);
    near(p.high[1], 0.02);
    near(p.low[0], -2);
    expectConsistent(p);
    // a tiny global max: the floor is 8e-5
    const q = symmetricWeightParams(new Float32Array([1e-3, 0]), [2, 1], 0);
    expect(q.scale[1]).toBe(f(8e-5 / 127));
  });

  it('MatMul [K, N] weights are per output column (axis 1)', () => {
    // rows [1, −4, 0.5], [−2, 1, 0.25] → column abs-max [2, 4, 0.5]
    const p = weightParams('symmetric', new Float32Array([1, -4, 0.5, -2, 1, 0.25]), [2, 3], 1);
    expect(arr(p.scale)).toEqual([f(2 / 127), f(4 / 127), f(0.5 / 127)]);
  });

  it('asymmetric per channel: min/max, clamp, tune_range, uint8', () => {
    // ch0 [−0.3, 1.0, 0.5] → scale 1/196, zp 59; ch1 [0.2, 0.4, 1.0] → [0, 1]: scale 1/255, zp 0
    const p = asymmetricWeightParams(new Float32Array([-0.3, 1.0, 0.5, 0.2, 0.4, 1.0]), [2, 3], 0);
    expect([p.qmin, p.qmax, p.dtype]).toEqual([0, 255, 'uint8']);
    expect(arr(p.zeroPoint)).toEqual([59, 0]);
    near(p.scale[0], 1 / 196);
    near(p.scale[1], 1 / 255);
    expectConsistent(p);
  });

  it('quantile weight estimator (abs_quantile, q = 1 − 1e-4)', () => {
    // channel [0, 10]: q 0.9999 → 9.999 → scale 9.999/127
    const p = symmetricWeightParams(new Float32Array([0, 10]), [1, 2], 0, {
      estimator: { max: { type: 'abs_quantile', outlier_prob: 1e-4 } },
    });
    near(p.scale[0], 9.999 / 127);
  });
});

describe('Concat unification', () => {
  it('unifyRanges: element-wise min of lows, max of highs, broadcasting length 1', () => {
    const u = unifyRanges([
      { low: [-1], high: [2] },
      { low: [-3], high: [1] },
    ]);
    expect([arr(u.low), arr(u.high)]).toEqual([[-3], [2]]);
    const v = unifyRanges([
      { low: [-1, -2], high: [1, 1] },
      { low: [-1.5], high: [3] },
    ]);
    expect([arr(v.low), arr(v.high)]).toEqual([
      [-1.5, -2],
      [3, 3],
    ]);
  });

  it('signed inputs keep the widest signed grid; unsigned the widest unsigned grid', () => {
    const s = unifyParams([symmetricActivationParams([2.54], [-1]), symmetricActivationParams([1.27], [-1])], 'symmetric');
    expect(s.dtype).toBe('int8');
    near(s.scale[0], 0.02);
    near(s.low[0], -2.56);
    const u = unifyParams([symmetricActivationParams([5.1], [0]), symmetricActivationParams([2.55], [0])], 'symmetric');
    expect(u.dtype).toBe('uint8');
    near(u.scale[0], 0.02);
  });

  it('mixed signedness: the smallest signed grid containing the union', () => {
    // [0, 5.08] ∪ [−1.28, 1.27] → max(5.08, 1.28·254/256) = 5.08 → int8, scale 0.04
    const m = unifyParams([symmetricActivationParams([5.08], [0]), symmetricActivationParams([1.27], [-1])], 'symmetric');
    expect(m.dtype).toBe('int8');
    near(m.scale[0], 0.04);
    expect(m.low[0]).toBeLessThanOrEqual(-1.28);
  });

  it('asymmetric: union re-tuned onto an integer zero point', () => {
    // [−59/196, 1] ∪ [−1, 59/196] = [−1, 1] → zero level 127.5 → 128 → [−128/127, 1]
    const a = unifyParams([asymmetricActivationParams([-0.3], [1.0]), asymmetricActivationParams([-1.0], [0.3])], 'asymmetric');
    expect(a.zeroPoint[0]).toBe(128);
    near(a.scale[0], 1 / 127);
    expectConsistent(a);
    // an already tuned range is a fixed point
    const p = asymmetricActivationParams([-0.3], [1.0]);
    const r = paramsFromRange(p.low, p.high, 'asymmetric');
    expect(r.zeroPoint[0]).toBe(59);
    near(r.scale[0], p.scale[0]);
  });
});

describe('fakeQuantize / quantizeToInt (QuantizeLinear → DequantizeLinear)', () => {
  // scale 0.5 exactly: abs-max 63.5 → 63.5/127
  const sp = symmetricActivationParams([63.5], [-1]);
  it('ties to even and saturates at the int8 ends', () => {
    expect(sp.scale[0]).toBe(0.5);
    // x/scale: 2.5 → 2, 3.5 → 4, −2.5 → −2, −3.5 → −4, 200 → 127, −200 → −128
    const x = new Float32Array([1.25, 1.75, -1.25, -1.75, 100, -100]);
    expect(arr(fakeQuantize(x, [6], sp))).toEqual([1, 2, -1, -2, 63.5, -64]);
    expect(arr(quantizeToInt(x, [6], sp))).toEqual([2, 4, -2, -4, 127, -128]);
    expect(quantizeToInt(x, [6], sp)).toBeInstanceOf(Int8Array);
  });

  it('unsigned and asymmetric grids saturate at [0, 255] around the zero point', () => {
    const up = symmetricActivationParams([127.5], [0]); // scale 0.5, uint8
    expect(arr(fakeQuantize(new Float32Array([-3, 200, 1.25]), [3], up))).toEqual([0, 127.5, 1]);
    const ap = asymmetricActivationParams([-10], [10], { clipMin: -1, clipMax: 1 }); // scale 1/127, zp 128
    const x = new Float32Array([0, 1, -2, 5]);
    const q = quantizeToInt(x, [4], ap);
    expect(q).toBeInstanceOf(Uint8Array);
    expect(arr(q)).toEqual([128, 255, 0, 255]);
    const y = fakeQuantize(x, [4], ap);
    expect(y[0]).toBe(0);
    expect(y[1]).toBe(f(127 * ap.scale[0]));
    expect(y[2]).toBe(f(-128 * ap.scale[0]));
  });

  it('divides in float32: a quotient that rounds to the tie 3.5 in float32 goes to 4', () => {
    // s and x are float32; x/s = 3.49999996… in float64 but exactly 3.5 in float32
    const s = 0.09473972767591476;
    const x = 0.3315890431404114;
    expect(x / s).toBeLessThan(3.5);
    expect(f(x / s)).toBe(3.5);
    const p: QuantizerParams = {
      scale: new Float32Array([s]),
      zeroPoint: new Int32Array([0]),
      qmin: -128,
      qmax: 127,
      dtype: 'int8',
      low: new Float32Array([f(-128 * s)]),
      high: new Float32Array([f(127 * s)]),
    };
    expect(quantizeToInt(new Float32Array([x]), [1], p)[0]).toBe(4);
    expect(fakeQuantize(new Float32Array([x]), [1], p)[0]).toBe(f(4 * s));
  });

  it('per-channel along the given axis', () => {
    // Conv weights [2, 2], axis 0: scales 2/127 and 0.5/127
    const w = new Float32Array([2, -1, 0.5, 0.1]);
    const p = symmetricWeightParams(w, [2, 2], 0);
    const y = fakeQuantize(w, [2, 2], p, 0);
    expect(y[0]).toBe(f(127 * p.scale[0]));
    expect(y[1]).toBe(f(-64 * p.scale[0])); // −1/(2/127) = −63.5 → −64 (tie to even)
    expect(y[2]).toBe(f(127 * p.scale[1]));
    expect(y[3]).toBe(f(25 * p.scale[1])); // 0.1·127/0.5 = 25.4 → 25
    expect(arr(quantizeToInt(w, [2, 2], p, 0))).toEqual([127, -64, 127, 25]);
    // MatMul [K, N] = [2, 2], axis 1: column scales
    const pm = symmetricWeightParams(w, [2, 2], 1); // columns [2, 0.5] → 2; [−1, 0.1] → 1
    expect(arr(quantizeToInt(w, [2, 2], pm, 1))).toEqual([127, -127, 32, 13]);
    expect(() => fakeQuantize(w, [4], p, 0)).toThrow(/channels/);
  });
});
