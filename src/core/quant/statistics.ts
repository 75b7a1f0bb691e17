// Streaming per-sample statistics of one watched tensor (POT
// `statistics/functions/activations.py`).
//
// Activations arrive batch by batch; for every sample (batch item, axis 0) we reduce the
// activation to the per-sample statistics requested (a scalar per tensor, or one value per
// channel) and keep only those. The activations themselves are never stored. Per-sample values
// reduced elsewhere (inside the statistics graph, inplace-stats.ts) are added with `addSamples`.
//
// Pure TS: no DOM, no Node APIs.

import { QuantizeError, type Granularity } from '../types';
import { aggregateMatrix, quantileSorted, type AggregatorName, type StatType } from './aggregators';

export type SampleStatType = StatType | 'mean';

/** One per-sample statistic. */
export interface SampleStat {
  type: SampleStatType;
  /** Quantile level for `quantile` / `abs_quantile` (e.g. 1e-4 or 0.9999). */
  q?: number;
  /** Defaults to the collector's granularity. */
  granularity?: Granularity;
  /** Channel axis for per-channel statistics; defaults to the collector's (negative: from the end). */
  axis?: number;
}

/** A statistic as the collector stores it: granularity resolved (its layout names the channel axis). */
export type ResolvedSampleStat = SampleStat & { granularity: Granularity };

export interface CollectorOptions {
  /** Default granularity of the statistics (per-tensor: one value per sample). */
  granularity: Granularity;
  /** Default channel axis for per-channel statistics: 1 (NCHW) for conv, −1 (last) for MatMul. */
  channelAxis?: number;
  stats: SampleStat[];
}

interface Entry {
  stat: SampleStat & { granularity: Granularity };
  layout: string;
  width: number; // values per sample (channels, or 1)
  data: Float64Array;
  n: number; // samples stored
}

/** Shape of one sample seen as [outer, channels, inner]. */
interface Layout {
  outer: number;
  channels: number;
  inner: number;
}

export class TensorStatsCollector {
  readonly granularity: Granularity;
  readonly channelAxis: number;
  private readonly entries = new Map<string, Entry>();
  private count = 0;

  constructor(opts: CollectorOptions) {
    this.granularity = opts.granularity;
    this.channelAxis = opts.channelAxis ?? 1;
    for (const s of opts.stats) this.ensure(s);
  }

  /** Number of samples seen so far. */
  get samples(): number {
    return this.count;
  }

  /** The distinct statistics collected, with their keys and layouts ('T' per-tensor, 'C<axis>' per-channel). */
  get requested(): { key: string; layout: string; stat: ResolvedSampleStat }[] {
    return [...this.entries].map(([key, e]) => ({ key, layout: e.layout, stat: { ...e.stat } }));
  }

  /** Stable key of a statistic (the collector stores each distinct key once). */
  key(s: SampleStat): string {
    const g = s.granularity ?? this.granularity;
    const where = g === 'pertensor' ? 'T' : `C${s.axis ?? this.channelAxis}`;
    const q = s.type === 'quantile' || s.type === 'abs_quantile' ? `@${s.q}` : '';
    return `${where}:${s.type}${q}`;
  }

  private ensure(s: SampleStat): Entry {
    const k = this.key(s);
    let e = this.entries.get(k);
    if (!e) {
      if ((s.type === 'quantile' || s.type === 'abs_quantile') && !(typeof s.q === 'number' && s.q >= 0 && s.q <= 1)) {
        throw new QuantizeError(`statistic '${s.type}' needs a quantile level q in [0, 1]`, { field: 'q' });
      }
      if (this.count > 0) throw new QuantizeError(`statistic ${k} was not requested before collection started`);
      const g = s.granularity ?? this.granularity;
      e = { stat: { ...s, granularity: g }, layout: k.slice(0, k.indexOf(':')), width: 0, data: new Float64Array(0), n: 0 };
      this.entries.set(k, e);
    }
    return e;
  }

  private layoutOf(layout: string, dims: number[]): Layout {
    const size = dims.slice(1).reduce((a, b) => a * b, 1);
    if (layout === 'T' || dims.length < 2) return { outer: 1, channels: 1, inner: size };
    const r = dims.length;
    let a = Number(layout.slice(1));
    if (a < 0) a += r;
    if (!(a >= 1 && a < r)) {
      throw new QuantizeError(`channel axis ${layout.slice(1)} is out of range for a tensor of shape [${dims.join(', ')}]`, {
        expected: 'an axis other than the batch axis 0',
      });
    }
    const outer = dims.slice(1, a).reduce((x, y) => x * y, 1);
    const inner = dims.slice(a + 1).reduce((x, y) => x * y, 1);
    return { outer, channels: dims[a], inner };
  }

  /**
   * Add a batch: `dims[0]` is the batch axis (a rank-0/1 tensor counts as one sample).
   * Computes the requested statistics for every sample and stores only those.
   */
  add(batch: Float32Array, dims: number[]): void {
    const total = dims.reduce((a, b) => a * b, 1);
    if (total !== batch.length) {
      throw new QuantizeError(`statistics: data length ${batch.length} does not match shape [${dims.join(', ')}]`);
    }
    const nSamples = dims.length >= 2 ? dims[0] : 1;
    const sampleSize = nSamples === 0 ? 0 : total / nSamples;
    // group entries by layout, so each (sample, channel) block is scanned once per layout
    const byLayout = new Map<string, Entry[]>();
    for (const e of this.entries.values()) {
      const list = byLayout.get(e.layout);
      if (list) list.push(e);
      else byLayout.set(e.layout, [e]);
    }
    for (const [layoutKey, list] of byLayout) {
      const L = this.layoutOf(layoutKey, dims);
      for (const e of list) {
        if (e.n === 0 && e.width === 0) e.width = L.channels;
        else if (e.width !== L.channels) {
          throw new QuantizeError(`statistics: channel count changed from ${e.width} to ${L.channels} (shape [${dims.join(', ')}])`);
        }
        reserve(e, e.n + nSamples);
      }
      this.reduceLayout(batch, nSamples, sampleSize, L, list);
    }
    this.count += nSamples;
  }

  /**
   * Add `nSamples` samples whose per-sample values were computed elsewhere (reduced inside the
   * statistics graph, inplace-stats.ts): `widths` maps each layout to its channel count (1 for
   * 'T'), and `rows(key)` gives the statistic's values, row-major `[nSamples, width]`. Nothing is
   * stored unless every statistic's values are given.
   */
  addSamples(nSamples: number, widths: Map<string, number>, rows: (key: string) => ArrayLike<number>): void {
    const got = new Map<Entry, ArrayLike<number>>();
    for (const [k, e] of this.entries) {
      const w = widths.get(e.layout);
      if (w === undefined) throw new QuantizeError(`statistics: no values for ${k}`);
      if (e.n === 0 && e.width === 0) e.width = w;
      else if (e.width !== w) throw new QuantizeError(`statistics: channel count changed from ${e.width} to ${w}`);
      const r = rows(k);
      if (r.length !== nSamples * w) throw new QuantizeError(`statistics: ${r.length} values for ${k}, expected ${nSamples} × ${w}`);
      got.set(e, r);
    }
    for (const [e, r] of got) {
      reserve(e, e.n + nSamples);
      const off = e.n * e.width;
      for (let i = 0; i < r.length; i++) e.data[off + i] = r[i];
      e.n += nSamples;
    }
    this.count += nSamples;
  }

  private reduceLayout(x: Float32Array, nSamples: number, sampleSize: number, L: Layout, list: Entry[]): void {
    const { outer, channels, inner } = L;
    const blockLen = outer * inner;
    const wantPlain = list.some((e) => e.stat.type === 'quantile');
    const wantAbs = list.some((e) => e.stat.type === 'abs_quantile');
    const plain = wantPlain ? new Float32Array(blockLen) : null;
    const abs = wantAbs ? new Float32Array(blockLen) : null;
    for (let s = 0; s < nSamples; s++) {
      const base = s * sampleSize;
      for (let c = 0; c < channels; c++) {
        let mn = Infinity;
        let mx = -Infinity;
        let amx = 0;
        let sum = 0;
        let k = 0;
        for (let o = 0; o < outer; o++) {
          const off = base + (o * channels + c) * inner;
          for (let i = 0; i < inner; i++) {
            const v = x[off + i];
            if (v < mn) mn = v;
            if (v > mx) mx = v;
            const av = v < 0 ? -v : v;
            if (av > amx) amx = av;
            sum += v;
            if (plain) plain[k] = v;
            if (abs) abs[k] = av;
            k++;
          }
        }
        if (plain) plain.sort();
        if (abs) abs.sort();
        for (const e of list) {
          let r: number;
          switch (e.stat.type) {
            case 'min':
              r = mn;
              break;
            case 'max':
              r = mx;
              break;
            case 'abs_max':
              r = amx;
              break;
            case 'mean':
              r = blockLen ? sum / blockLen : NaN;
              break;
            case 'quantile':
              r = quantileSorted(plain as Float32Array, e.stat.q as number);
              break;
            case 'abs_quantile':
              r = quantileSorted(abs as Float32Array, e.stat.q as number);
              break;
            default:
              throw new QuantizeError(`unknown statistic '${String(e.stat.type)}'`);
          }
          e.data[(e.n + s) * e.width + c] = r;
        }
      }
    }
    for (const e of list) e.n += nSamples;
  }

  /** The stored per-sample values of a statistic, row-major `[samples, width]`. */
  values(stat: SampleStat): { data: Float64Array; samples: number; width: number } {
    const e = this.entries.get(this.key(stat));
    if (!e) throw new QuantizeError(`statistic ${this.key(stat)} was not collected`);
    return { data: e.data.subarray(0, e.n * e.width), samples: e.n, width: e.width };
  }

  /** Aggregate a statistic over samples (one value per tensor, or one per channel). */
  aggregate(stat: SampleStat, aggregator: AggregatorName): Float64Array {
    const v = this.values(stat);
    return aggregateMatrix(v.data, v.samples, v.width, aggregator);
  }
}

function reserve(e: Entry, samples: number): void {
  const need = samples * e.width;
  if (e.data.length >= need) return;
  const grown = new Float64Array(Math.max(need, e.data.length * 2, 16 * e.width));
  grown.set(e.data.subarray(0, e.n * e.width));
  e.data = grown;
}
