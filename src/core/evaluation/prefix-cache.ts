// prefix_cache: a ranking scores every group of a state on the same samples, and each candidate
// (the state with one group reverted) computes exactly what the first candidate computed up to the
// first node that reads one of the feeds in which the two differ. So the ranking arms the cache,
// the first candidate it evaluates (the one whose group sits deepest) runs the whole switchable
// graph and leaves its activations at a few cut tensors (quant/prefix-cuts.ts) per sample, and
// every later candidate resumes each cached sample from the deepest cut before its own group —
// a suffix session fed the cached tensor. Same kernels, same inputs: the outputs are bit for bit
// those of the full session (tests/integration/prefix-cache.test.ts), so no value and no decision
// changes; only the work does. Samples not cached (or too many for the memory budget) run whole.
import type { Evaluator } from '../engine/runner';
import { encodeModel } from '../onnx/proto';
import { suffixModel, type PrefixPlan } from '../quant/prefix-cuts';
import type { Dataset, Engine, SessionInfo, TensorData } from '../types';

export interface PrefixCacheOptions {
  engine: Engine;
  evaluator: Evaluator;
  dataset: Dataset;
  plan: PrefixPlan;
  inputName: string;
  outputName: string;
  batchSize: number;
  /** Bytes of cached activations at most (default 192 MiB). */
  budgetBytes?: number;
  sessionOptions?: Record<string, unknown>;
  time: <T>(phase: string, p: Promise<T>) => Promise<T>;
}

/** What the cache did, for the report (samples resumed, and the share of the network they skipped). */
export interface PrefixCacheUse {
  cuts: number;
  captured: number;
  resumed: number;
  /** Σ over resumed samples of the share of data-dependent nodes skipped. */
  skipped: number;
  suffixSessions: number;
  /** ms spent creating them. */
  suffixCreateMs: number;
  /** Cuts dropped because resuming there was not measurably cheaper than a whole run. */
  dropped: number;
}

interface Cached {
  label: number;
  /** Per kept cut: the sample's frontier values. */
  values: Float32Array[];
}

interface Reference {
  feeds: Record<string, TensorData>;
  /** Indices into plan.cuts kept within the budget (ascending position). */
  cuts: number[];
  dims: number[][];
  samples: Map<number, Cached>;
}

export class PrefixCache {
  private ref?: Reference;
  /** Armed by a ranking: the limits (prefix-free positions) of the candidates it will evaluate. */
  private armed?: number[];
  private readonly suffix = new Map<number, Promise<{ session: SessionInfo; inputs: string[] }>>();
  /** ms per sample of whole runs (all evaluations that did not resume), and of resumes per cut. */
  private whole = { ms: 0, n: 0 };
  private readonly resumed = new Map<number, { ms: number; n: number; batches: number }>();
  /** Cuts whose resumes proved no cheaper than whole runs (copying the cached tensor in and out
   *  can cost more than the layers it skips, on small models): no longer used. */
  private readonly slow = new Set<number>();
  /** Tensors the capturing run fetches. */
  private captureTensors: string[] = [];
  readonly use: PrefixCacheUse;

  constructor(private readonly o: PrefixCacheOptions) {
    this.use = { cuts: o.plan.cuts.length, captured: 0, resumed: 0, skipped: 0, suffixSessions: 0, suffixCreateMs: 0, dropped: 0 };
  }

  /** The next evaluation becomes the reference: a ranking is about to score candidates whose first
   *  changed node sits at `limits` (positions; see firstRead). */
  arm(limits: number[]): void {
    this.armed = limits;
  }

  /** How many distinct cuts candidates at `limits` would resume from (slow or not: whether a
   *  ranking arms the cache must not depend on timings). */
  cutsFor(limits: number[]): number {
    return new Set(limits.map((l) => this.cutFor(this.every, l)).filter((k) => k >= 0)).size;
  }

  private get every(): number[] {
    return this.o.plan.cuts.map((_, k) => k);
  }

  /** The deepest of `cuts` usable by a candidate whose first changed node is at `limit`. */
  private cutFor(cuts: number[], limit: number): number {
    let cutK = -1;
    for (const k of cuts) if (this.o.plan.cuts[k].position <= limit) cutK = k;
    return cutK;
  }

  /** Position of the first node reading any of `names` (graph inputs); Infinity if none. */
  firstRead(names: string[]): number {
    let p = Infinity;
    for (const n of names) p = Math.min(p, this.o.plan.firstRead.get(n) ?? Infinity);
    return p;
  }

  /** Outputs and labels of the configuration fed by `feeds` on `idxs`, resuming cached samples. */
  async run(
    session: SessionInfo,
    feeds: Record<string, TensorData>,
    idxs: number[],
    progress?: (d: number, t: number) => void,
  ): Promise<{ outputs: TensorData[]; labels: number[] }> {
    const ref = this.ref;
    let cutK = -1;
    if (ref && !this.armed) {
      const limit = this.firstRead(Object.keys(feeds).filter((k) => !sameFeed(feeds[k], ref.feeds[k])));
      // a slow cut means a whole run, not a shallower cut: which suffix sessions exist (counted in
      // the report) must not depend on timings
      cutK = this.cutFor(this.every, limit);
      if (!ref.cuts.includes(cutK) || this.slow.has(cutK)) cutK = -1;
    }
    const cached = cutK >= 0 ? idxs.filter((i) => ref!.samples.has(i)) : [];
    const rest = cached.length ? idxs.filter((i) => !ref!.samples.has(i)) : idxs;
    const byIndex = new Map<number, { out: TensorData; label: number }>();
    let done = 0;
    const tick = (n: number) => progress?.((done += n), idxs.length);
    if (cached.length) await this.resume(cutK, feeds, cached, byIndex, tick);
    if (rest.length) {
      const capture = this.armed?.length ? this.startCapture(feeds, rest.length, this.armed) : undefined;
      delete this.armed;
      const t0 = performance.now();
      const r = await this.o.evaluator.run(session, this.o.dataset, rest, {
        inputName: this.o.inputName,
        outputName: this.o.outputName,
        batchSize: this.o.batchSize,
        extraFeeds: feeds,
        extraOutputs: capture ? this.captureTensors : undefined,
        onBatch: capture && ((indices, _main, all) => capture(indices, all)),
        progress: (d) => progress?.(done + d, idxs.length),
      });
      if (!capture) ((this.whole.ms += performance.now() - t0), (this.whole.n += rest.length));
      rest.forEach((i, k) => {
        byIndex.set(i, { out: r.outputs[k], label: r.labels[k] });
        const c = capture && this.ref?.samples.get(i);
        if (c) c.label = r.labels[k];
      });
      // the suffix sessions this ranking will use, created now (their number is deterministic)
      if (capture && this.ref) for (const k of this.ref.cuts) await this.suffixSession(k);
    }
    const outputs: TensorData[] = [];
    const labels: number[] = [];
    for (const i of idxs) {
      const v = byIndex.get(i)!;
      outputs.push(v.out);
      labels.push(v.label);
    }
    return { outputs, labels };
  }

  /** A new reference for `feeds`; the returned function stores each batch's frontier values. */
  private startCapture(feeds: Record<string, TensorData>, count: number, limits: number[]): (indices: number[], all: Record<string, TensorData>) => void {
    delete this.ref;
    // only the cuts some candidate will resume from
    const wanted = new Set(limits.map((l) => this.cutFor(this.every, l)).filter((k) => k >= 0 && !this.slow.has(k)));
    this.captureTensors = [...wanted].map((k) => this.o.plan.cuts[k].tensor);
    const budget = this.o.budgetBytes ?? 192 * 2 ** 20;
    let ref: Reference | undefined;
    return (indices, all) => {
      if (!ref) {
        // Keep the deepest cuts whose values for all `count` samples fit the budget.
        const cuts: number[] = [];
        const dims: number[][] = [];
        let bytes = 0;
        for (let k = this.o.plan.cuts.length - 1; k >= 0; k--) {
          const t = all[this.o.plan.cuts[k].tensor];
          if (!wanted.has(k) || !t || t.type !== 'float32' || t.dims[0] !== indices.length) continue;
          const per = (t.data.length / indices.length) * 4;
          if ((bytes + per) * count > budget) break;
          bytes += per;
          cuts.unshift(k);
          dims.unshift(t.dims.slice(1));
        }
        ref = this.ref = { feeds, cuts, dims, samples: new Map() };
      }
      const r = ref;
      if (!r.cuts.length) return;
      indices.forEach((idx, j) => {
        const values = r.cuts.map((k) => {
          const t = all[this.o.plan.cuts[k].tensor];
          const per = t.data.length / indices.length;
          // a view into the batch's output (the engine hands over its buffers): no copy, and a
          // resume over the same batch feeds that buffer back as is
          return (t.data as Float32Array).subarray(j * per, (j + 1) * per);
        });
        r.samples.set(idx, { label: NaN, values }); // the label once the run returns
      });
      this.use.captured += indices.length;
    };
  }

  private suffixSession(k: number): Promise<{ session: SessionInfo; inputs: string[] }> {
    let s = this.suffix.get(k);
    if (!s) {
      const m = suffixModel(this.o.plan.model, this.o.plan.cuts[k], this.o.inputName, this.o.outputName);
      const t0 = performance.now();
      s = this.o.time('sessions', this.o.engine.createSession(encodeModel(m.model), this.o.sessionOptions)).then((session) => {
        this.use.suffixSessions++;
        this.use.suffixCreateMs += performance.now() - t0;
        return { session, inputs: m.inputs };
      });
      this.suffix.set(k, s);
    }
    return s;
  }

  private async resume(
    k: number,
    feeds: Record<string, TensorData>,
    idxs: number[],
    into: Map<number, { out: TensorData; label: number }>,
    tick: (n: number) => void,
  ): Promise<void> {
    const ref = this.ref!;
    const slot = ref.cuts.indexOf(k);
    const cut = this.o.plan.cuts[k];
    const { session, inputs } = await this.suffixSession(k);
    const sub: Record<string, TensorData> = {};
    for (const name of inputs.slice(1)) sub[name] = feeds[name];
    const dims = ref.dims[slot];
    const per = dims.reduce((a, b) => a * b, 1);
    const stat = this.resumed.get(k) ?? { ms: 0, n: 0, batches: 0 };
    this.resumed.set(k, stat);
    for (let s = 0; s < idxs.length; s += this.o.batchSize) {
      const t0 = performance.now();
      const part = idxs.slice(s, s + this.o.batchSize);
      const rows = part.map((i) => ref.samples.get(i)!.values[slot]);
      const contiguous = rows.every((v, j) => v.buffer === rows[0].buffer && v.byteOffset === rows[0].byteOffset + j * per * 4);
      const data = contiguous ? new Float32Array(rows[0].buffer, rows[0].byteOffset, part.length * per) : new Float32Array(part.length * per);
      if (!contiguous) rows.forEach((v, j) => data.set(v, j * per));
      const out = await this.o.engine.run(session, { ...sub, [cut.tensor]: { type: 'float32', dims: [part.length, ...dims], data } }, [this.o.outputName]);
      const main = out[this.o.outputName];
      const n = main.data.length / part.length;
      const labels = part.map((i) => ref.samples.get(i)!.label);
      part.forEach((i, j) =>
        into.set(i, { out: { type: main.type, dims: [1, ...main.dims.slice(1)], data: main.data.slice(j * n, (j + 1) * n) as TensorData['data'] }, label: labels[j] }),
      );
      this.o.evaluator.inferences += part.length;
      this.o.evaluator.runs++;
      this.use.resumed += part.length;
      this.use.skipped += part.length * cut.share;
      tick(part.length);
      if (stat.batches++ > 0) ((stat.ms += performance.now() - t0), (stat.n += part.length)); // the first batch pays the session's warm-up
    }
    // After a few batches, drop a cut that saves under 10 % of a whole run per sample.
    if (stat.batches >= 4 && this.whole.n >= 4 * this.o.batchSize && stat.ms / stat.n > 0.9 * (this.whole.ms / this.whole.n)) {
      this.slow.add(k);
      this.use.dropped = this.slow.size;
    }
  }

  async dispose(): Promise<void> {
    for (const s of this.suffix.values()) await this.o.engine.release((await s).session);
    this.suffix.clear();
    delete this.ref;
  }
}

/** Same feed values: type, length and bytes (cheap when the arrays are shared, as cached weights are). */
export function sameFeed(a: TensorData, b: TensorData | undefined): boolean {
  if (!b || a.type !== b.type || a.data.length !== b.data.length) return false;
  if (a.data === b.data) return true;
  if (Array.isArray(a.data) || Array.isArray(b.data)) return (a.data as unknown[]).every((v, i) => v === (b.data as unknown[])[i]);
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
