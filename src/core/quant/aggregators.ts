// Aggregation numerics shared by the range estimators (./estimators) and the per-sample
// statistics collector (./statistics): numpy's quantile and median, POT's Hodges-Lehmann and
// no-outliers estimators, and the per-column aggregation over samples (POT
// `statistics/functions/aggregation.py`, `statistics/functions/activations.py`).
//
// Pure TS: no DOM, no Node APIs.

import type { RangeEstimatorSide } from '../config/types';
import { QuantizeError } from '../types';

export type StatType = NonNullable<RangeEstimatorSide['type']>;
export type AggregatorName = NonNullable<RangeEstimatorSide['aggregator']>;

export const AGGREGATORS: readonly AggregatorName[] = ['mean', 'max', 'min', 'median', 'mean_no_outliers', 'median_no_outliers', 'hl_estimator'];

/**
 * `np.quantile(a, q)` with the default 'linear' method on an ascending-sorted array:
 * virtual index `n·q + (1 − q) − 1` (= q·(n−1)), then numpy's `_lerp`, which interpolates from
 * the upper neighbour when the fraction is ≥ 0.5.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  return quantileAt(sorted.length, q, (i) => sorted[i]);
}

/**
 * `quantileSorted` of an ascending order of `n` values of which only the ones it reads are at
 * hand: `at(i)` is the i-th smallest (it reads at most two: the neighbours of q·(n−1), or an end).
 */
export function quantileAt(n: number, q: number, at: (i: number) => number): number {
  if (n === 0) return NaN;
  const v = n * q + (1 + q * (1 - 1 - 1)) - 1;
  if (v <= 0) return at(0);
  if (v >= n - 1) return at(n - 1);
  const prev = Math.floor(v);
  const g = v - prev;
  const a = at(prev);
  const b = at(prev + 1);
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/** `np.median` on an ascending-sorted array: the middle element, or the mean of the two middle. */
export function medianSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = n >> 1;
  return n % 2 === 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
}

function sortedCopy(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x).sort();
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
const SIGN = 0x7fffffffffffffffn;
/** Order-preserving map of finite doubles to integers (adjacent doubles → adjacent keys). */
function keyOf(v: number): bigint {
  f64[0] = v;
  const b = i64[0];
  return b >= 0n ? b : -(b & SIGN);
}
function fromKey(k: bigint): number {
  i64[0] = k >= 0n ? k : -k | ~SIGN;
  return f64[0];
}

/**
 * k-th smallest (1-based) of the pairwise sums `x[i] + x[j]`, i < j, of an ascending-sorted `x`,
 * without materialising the n(n−1)/2 sums: bisection over the doubles (by bit pattern, so at
 * most 64 steps) on the count of sums ≤ v, a two-pointer pass. Float addition is monotone, so
 * the count is a step function that jumps exactly at the computed sums, and the bisection ends
 * on the k-th computed sum.
 */
function kthPairSum(x: Float64Array, k: number): number {
  const n = x.length;
  const countLE = (v: number): number => {
    let c = 0;
    let j = n - 1;
    for (let i = 0; i < n; i++) {
      while (j > i && x[i] + x[j] > v) j--;
      if (j <= i) break;
      c += j - i;
    }
    return c;
  };
  const first = x[0] + x[1];
  if (countLE(first) >= k) return first;
  let lo = keyOf(first); // count(lo) < k
  let hi = keyOf(x[n - 2] + x[n - 1]); // count(hi) = all pairs ≥ k
  while (hi - lo > 1n) {
    const mid = lo + (hi - lo) / 2n;
    if (countLE(fromKey(mid)) >= k) hi = mid;
    else lo = mid;
  }
  return fromKey(hi);
}

/**
 * POT `hodges_lehmann_mean`: `0.5 · median({x_i + x_j : i > j})` over all samples
 * (`np.tril_indices(n, -1)`: distinct pairs, the diagonal excluded).
 * Deviation: with a single sample POT gets the median of an empty set (NaN); we return x[0].
 */
export function hodgesLehmann(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  if (n === 1) return values[0];
  const x = sortedCopy(values);
  const m = (n * (n - 1)) / 2;
  if (m % 2 === 1) return 0.5 * kthPairSum(x, (m + 1) / 2);
  return 0.5 * ((kthPairSum(x, m / 2) + kthPairSum(x, m / 2 + 1)) / 2);
}

/**
 * POT `no_outliers_estimator(base, x, alpha=0.01)`: drop values outside
 * `[np.quantile(x, 0.01), np.quantile(x, 0.99)]` (inclusive, linear interpolation, over all
 * samples of the channel), then apply `base` (mean or median) to what is left.
 */
export function noOutliers(values: ArrayLike<number>, base: 'mean' | 'median', alpha = 0.01): number {
  const s = sortedCopy(values);
  const lo = quantileSorted(s, alpha);
  const hi = quantileSorted(s, 1 - alpha);
  const kept = s.filter((v) => v >= lo && v <= hi);
  if (base === 'median') return medianSorted(kept);
  let sum = 0;
  for (const v of kept) sum += v;
  return kept.length ? sum / kept.length : NaN;
}

/**
 * Aggregate per-sample values over samples, per column. `values` is row-major `[n, c]`
 * (n samples, c = 1 per-tensor or the channel count). POT's aggregators receive the per-batch
 * list of `[batch, c]` arrays; with calibration batch 1 (POT's normal case) `mean` (mean of batch
 * means) is the plain mean over samples, which is what we compute for any batch size.
 */
export function aggregateMatrix(values: ArrayLike<number>, n: number, c: number, agg: AggregatorName): Float64Array {
  if (n <= 0) throw new QuantizeError('no statistics collected (0 samples)', { expected: 'at least one calibration sample' });
  const out = new Float64Array(c);
  const col = new Float64Array(n);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < n; i++) col[i] = values[i * c + ch];
    let r: number;
    switch (agg) {
      case 'mean': {
        let s = 0;
        for (let i = 0; i < n; i++) s += col[i];
        r = s / n;
        break;
      }
      case 'max': {
        r = -Infinity;
        for (let i = 0; i < n; i++) if (col[i] > r || Number.isNaN(col[i])) r = col[i];
        break;
      }
      case 'min': {
        r = Infinity;
        for (let i = 0; i < n; i++) if (col[i] < r || Number.isNaN(col[i])) r = col[i];
        break;
      }
      case 'median':
        r = medianSorted(sortedCopy(col));
        break;
      case 'mean_no_outliers':
        r = noOutliers(col, 'mean');
        break;
      case 'median_no_outliers':
        r = noOutliers(col, 'median');
        break;
      case 'hl_estimator':
        r = hodgesLehmann(col);
        break;
      default:
        throw new QuantizeError(`unknown aggregator '${String(agg)}'`, { expected: AGGREGATORS.join(' | ') });
    }
    out[ch] = r;
  }
  return out;
}
