// Runs a model over (a subset of) a Dataset in batches and keeps per-sample outputs for metrics.
// Dynamic batch when the model allows it; a fixed batch dim N > 1 is filled up by repeating the
// last sample; an unknown batch dim is tried at the asked size and, on failure, run at batch 1
// (remembered per engine + session).

import type { Dataset, Engine, SessionInfo, TensorData } from '../types';
import type { OrtSessionInfo } from './ort-common';

export interface RunDatasetOptions {
  inputName: string;
  /** Output kept per sample (and handed to onBatch). */
  outputName: string;
  /** Further outputs fetched with every batch (e.g. watched activations for statistics); they go
   *  to onBatch's third argument only, never split or kept. */
  extraOutputs?: string[];
  batchSize: number;
  /** Feeds added to every batch unchanged (switches, scales of a switchable graph). */
  extraFeeds?: Record<string, TensorData>;
  /** Model input shape ([N,1,28,28], ['N',1,28,28]); when absent it is taken from the session's
   *  metadata if the engine reported it (OrtSessionInfo). */
  inputShape?: readonly (number | string | null | undefined)[];
  /** Called after each batch with the dataset indices and the (whole) batch output. Padding rows
   *  of a fixed-batch model are removed first. */
  onBatch?: (indices: number[], output: TensorData, all: Record<string, TensorData>) => void | Promise<void>;
  signal?: AbortSignal;
  /** Samples done / total, after each batch. */
  progress?: (done: number, total: number) => void;
  /** Keep per-sample outputs in the result (default true). Turn off for statistics passes. */
  keepOutputs?: boolean;
}

export interface RunDatasetResult {
  /** Per-sample outputs in the order of `indices`, each shaped like a batch-1 output ([1, …]). */
  outputs: TensorData[];
  /** Labels of the samples in the order of `indices` (-1 when unlabelled). */
  labels: number[];
  /** Sample inferences run (padding rows of fixed-batch models not counted). */
  inferences: number;
  /** Batch size actually used. */
  batchSize: number;
  /** Engine `run` calls made. */
  runs: number;
}

/** How a session takes batches: 'dynamic', or a fixed batch size. */
export type BatchMode = { kind: 'dynamic'; verified?: boolean } | { kind: 'fixed'; size: number };

const learned = new WeakMap<Engine, Map<number, BatchMode>>();

function remember(engine: Engine, session: SessionInfo, mode: BatchMode): void {
  let m = learned.get(engine);
  if (!m) learned.set(engine, (m = new Map()));
  m.set(session.id, mode);
}

/** Batch mode from a model input shape: symbolic/unknown dim 0 → dynamic, a number → fixed. */
export function batchModeFromShape(shape: readonly (number | string | null | undefined)[] | undefined): BatchMode | undefined {
  if (!shape || shape.length === 0) return undefined;
  const d = shape[0];
  if (typeof d === 'number' && d > 0) return { kind: 'fixed', size: d };
  return { kind: 'dynamic' }; // 'N', -1, 0, null: a free dimension
}

function sessionInputShape(session: SessionInfo, name: string): (number | string)[] | undefined {
  const info = (session as Partial<OrtSessionInfo>).inputInfo;
  return info?.find((v) => v.name === name)?.shape;
}

/** Splits a batch output [B, …] into B outputs shaped [1, …]. Copies (no shared buffers). */
export function splitBatch(t: TensorData, count = t.dims[0]): TensorData[] {
  if (t.dims.length === 0 || t.dims[0] < count) {
    throw new Error(`cannot split output of dims [${t.dims.join(',')}] into ${count} samples`);
  }
  const per = t.dims[0] === 0 ? 0 : t.data.length / t.dims[0];
  const dims = [1, ...t.dims.slice(1)];
  const out: TensorData[] = [];
  for (let i = 0; i < count; i++) {
    const data = t.data.slice(i * per, (i + 1) * per) as TensorData['data'];
    out.push({ type: t.type, dims: [...dims], data });
  }
  return out;
}

/** Keeps the first `count` rows of a batch output. */
function takeRows(t: TensorData, count: number): TensorData {
  if (t.dims[0] === count) return t;
  const per = t.data.length / t.dims[0];
  return { type: t.type, dims: [count, ...t.dims.slice(1)], data: t.data.slice(0, count * per) as TensorData['data'] };
}

interface Loaded {
  indices: number[];
  input: Float32Array;
  labels: number[];
}

async function loadBatch(dataset: Dataset, indices: number[], sampleLen: number, padTo: number): Promise<Loaded> {
  const samples = await Promise.all(indices.map((i) => dataset.get(i)));
  const rows = Math.max(padTo, indices.length);
  const input = new Float32Array(rows * sampleLen);
  samples.forEach((s, k) => {
    if (s.input.length !== sampleLen) {
      throw new Error(`sample ${indices[k]}: ${s.input.length} values, expected ${sampleLen} ([${dataset.sampleShape.join(',')}])`);
    }
    input.set(s.input, k * sampleLen);
  });
  // Fixed batch larger than what is left: repeat the last sample (its outputs are dropped).
  for (let k = indices.length; k < rows; k++) input.set(samples[samples.length - 1].input, k * sampleLen);
  return { indices, input, labels: samples.map((s) => s.label) };
}

function chunks(indices: number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
}

/**
 * Runs `session` over `dataset[indices]` in batches. The next batch's samples are read while the
 * current batch runs. Returns per-sample outputs (unless keepOutputs is false) and counters.
 */
export async function runDataset(engine: Engine, session: SessionInfo, dataset: Dataset, indices: number[], opts: RunDatasetOptions): Promise<RunDatasetResult> {
  const keep = opts.keepOutputs ?? true;
  const sampleShape = dataset.sampleShape;
  const sampleLen = sampleShape.reduce((a, b) => a * b, 1);
  const fetches = [opts.outputName, ...(opts.extraOutputs ?? []).filter((o) => o !== opts.outputName)];
  const result: RunDatasetResult = { outputs: [], labels: [], inferences: 0, batchSize: 1, runs: 0 };
  if (indices.length === 0) return result;

  let mode: BatchMode = learned.get(engine)?.get(session.id) ?? batchModeFromShape(opts.inputShape ?? sessionInputShape(session, opts.inputName)) ?? { kind: 'dynamic' };
  remember(engine, session, mode);
  const asked = Math.max(1, Math.floor(opts.batchSize));
  const sizeNow = () => (mode.kind === 'fixed' ? mode.size : asked);
  const padOf = () => (mode.kind === 'fixed' ? mode.size : 0);

  const runRows = async (b: Loaded, rows: number): Promise<Record<string, TensorData>> => {
    const feeds: Record<string, TensorData> = {
      ...opts.extraFeeds,
      [opts.inputName]: { type: 'float32', dims: [rows, ...sampleShape], data: b.input },
    };
    const out = await engine.run(session, feeds, fetches);
    result.runs++;
    const main = out[opts.outputName];
    if (!main) throw new Error(`output '${opts.outputName}' missing`);
    if (rows > 1 && main.dims[0] !== rows) {
      throw new Error(`output '${opts.outputName}' has dims [${main.dims.join(',')}] for a batch of ${rows}`);
    }
    return out;
  };

  const consume = async (b: Loaded, out: Record<string, TensorData>, rows: number): Promise<void> => {
    const n = b.indices.length;
    const all: Record<string, TensorData> = {};
    for (const [k, v] of Object.entries(out)) all[k] = rows > n && v.dims[0] === rows ? takeRows(v, n) : v;
    const main = all[opts.outputName];
    if (keep) {
      if (rows === 1 && (main.dims.length === 0 || main.dims[0] !== 1))
        result.outputs.push(main); // no batch dim
      else result.outputs.push(...splitBatch(main, n));
    }
    result.labels.push(...b.labels);
    result.inferences += n;
    await opts.onBatch?.(b.indices, main, all);
  };

  /** Runs a loaded batch one sample at a time (after falling back to batch 1). */
  const runSingly = async (b: Loaded): Promise<void> => {
    for (let j = 0; j < b.indices.length; j++) {
      opts.signal?.throwIfAborted();
      const one: Loaded = {
        indices: [b.indices[j]],
        input: b.input.subarray(j * sampleLen, (j + 1) * sampleLen),
        labels: [b.labels[j]],
      };
      await consume(one, await runRows(one, 1), 1);
    }
  };

  const batches = chunks(indices, sizeNow());
  let done = 0;
  let next: Promise<Loaded> = loadBatch(dataset, batches[0], sampleLen, padOf());
  for (let k = 0; k < batches.length; k++) {
    opts.signal?.throwIfAborted();
    const cur = await next;
    if (k + 1 < batches.length) {
      next = loadBatch(dataset, batches[k + 1], sampleLen, padOf());
      next.catch(() => undefined); // surfaced when awaited; no unhandled rejection meanwhile
    }
    const rows = Math.max(cur.indices.length, padOf());
    if (mode.kind === 'fixed' && mode.size === 1 && rows > 1) {
      await runSingly(cur);
    } else {
      let out: Record<string, TensorData> | undefined;
      try {
        out = await runRows(cur, rows);
      } catch (e) {
        // A free batch dim not yet proven: the model may still want batch 1 (e.g. a Reshape with
        // a hard-coded 1). Fall back for good; a genuine error fails again at batch 1.
        if (mode.kind === 'fixed' || mode.verified || rows === 1) throw e;
        mode = { kind: 'fixed', size: 1 };
        remember(engine, session, mode);
      }
      if (out) {
        if (mode.kind === 'dynamic' && rows > 1 && !mode.verified) {
          mode = { kind: 'dynamic', verified: true };
          remember(engine, session, mode);
        }
        await consume(cur, out, rows);
      } else {
        await runSingly(cur);
      }
    }
    done += cur.indices.length;
    opts.progress?.(done, indices.length);
  }
  result.batchSize = Math.min(sizeNow(), indices.length);
  return result;
}

/** Stateful wrapper: counts sample inferences over many passes (counts.inferences). */
export class Evaluator {
  inferences = 0;
  runs = 0;
  constructor(readonly engine: Engine) {}

  async run(session: SessionInfo, dataset: Dataset, indices: number[], opts: RunDatasetOptions): Promise<RunDatasetResult> {
    const r = await runDataset(this.engine, session, dataset, indices, opts);
    this.inferences += r.inferences;
    this.runs += r.runs;
    return r;
  }

  /** The batch mode learned (or read from metadata) for a session, if any. */
  batchMode(session: SessionInfo): BatchMode | undefined {
    return learned.get(this.engine)?.get(session.id);
  }
}
