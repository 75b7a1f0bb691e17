// The Engine over any onnxruntime JavaScript binding (onnxruntime-node, onnxruntime-web/wasm,
// onnxruntime-web/webgpu). Pure TS: only *types* come from 'onnxruntime-common'; the runtime module
// is injected, so this file loads in Node, in a browser worker and in tests alike.

import type { InferenceSession, Tensor, TensorConstructor } from 'onnxruntime-common';
import type { Backend, DType, Engine, SessionInfo, TensorData, TypedArray } from '../types';
import type { EngineTraits } from './traits';

/** The part of an onnxruntime module we use: `import * as ort from 'onnxruntime-…'` fits. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: TensorConstructor;
}

export type OrtSessionOptions = InferenceSession.SessionOptions;

/** Shape/type of one model input or output as the runtime reports it (symbolic dims are strings). */
export interface ValueInfo {
  name: string;
  /** Element type ('float32', …) for tensors; undefined for non-tensor values (sequences, maps). */
  type?: string;
  /** Dims; a string is a symbolic (free) dimension, -1 / null-ish an unknown one. Undefined: unknown rank. */
  shape?: (number | string)[];
}

/** SessionInfo plus the model's input/output metadata (plain data, structured-clone friendly). */
export interface OrtSessionInfo extends SessionInfo {
  inputInfo: ValueInfo[];
  outputInfo: ValueInfo[];
}

// ---------------------------------------------------------------------------------------------
// TensorData ⇄ ort.Tensor

const ARRAY_OF: Record<Exclude<DType, 'string'>, abstract new (...a: never[]) => ArrayBufferView> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

export const DTYPES: readonly DType[] = [...Object.keys(ARRAY_OF), 'string'] as DType[];

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Throws a clear error when `t.data` does not match `t.type` / `t.dims`. */
export function checkTensorData(t: TensorData, what = 'tensor'): void {
  if (!DTYPES.includes(t.type)) throw new TypeError(`${what}: unsupported dtype '${t.type}'`);
  if (t.type === 'string') {
    if (!Array.isArray(t.data)) throw new TypeError(`${what}: a string tensor needs a string[]`);
  } else {
    const ctor = ARRAY_OF[t.type];
    if (!(t.data instanceof ctor)) {
      throw new TypeError(`${what}: dtype ${t.type} needs a ${ctor.name}, got ${t.data?.constructor?.name}`);
    }
  }
  if (t.dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TypeError(`${what}: invalid dims [${t.dims.join(',')}]`);
  }
  const n = elementCount(t.dims);
  if (t.data.length !== n) {
    throw new TypeError(`${what}: dims [${t.dims.join(',')}] need ${n} elements, data has ${t.data.length}`);
  }
}

/** TensorData → ort.Tensor (no copy: the tensor views the same memory). */
export function toOrtTensor(ort: Pick<OrtModule, 'Tensor'>, t: TensorData, what = 'tensor'): Tensor {
  checkTensorData(t, what);
  // DType names are ORT's own; float16 travels as Uint16Array bits, bool as Uint8Array 0/1.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return new ort.Tensor(t.type as any, t.data as any, t.dims);
}

/** ort.Tensor (CPU-located) → TensorData. float16 comes back as Uint16Array bits even where a
 *  Float16Array exists. Throws for dtypes outside DType (int4/uint4) and for GPU-located tensors
 *  (use `readOrtTensor`). */
export function fromOrtTensor(t: Tensor, what = 'tensor'): TensorData {
  if (t.location !== 'cpu' && t.location !== 'cpu-pinned') {
    throw new TypeError(`${what}: tensor lives on '${t.location}', read it with readOrtTensor`);
  }
  return wrap(t.type, t.dims, t.data, what);
}

/** Like fromOrtTensor but downloads GPU / ML tensors first (and releases their device memory). */
export async function readOrtTensor(t: Tensor, what = 'tensor'): Promise<TensorData> {
  if (t.location === 'cpu' || t.location === 'cpu-pinned') return fromOrtTensor(t, what);
  const data = await t.getData(true);
  return wrap(t.type, t.dims, data, what);
}

function wrap(type: string, dims: readonly number[], data: unknown, what: string): TensorData {
  if (!DTYPES.includes(type as DType)) throw new TypeError(`${what}: unsupported ORT tensor type '${type}'`);
  let arr = data as TypedArray;
  if (type === 'float16' && !(data instanceof Uint16Array)) {
    const v = data as ArrayBufferView & { length: number };
    arr = new Uint16Array(v.buffer, v.byteOffset, v.length); // Float16Array → raw bits
  }
  return { type: type as DType, dims: Array.from(dims), data: arr };
}

function toValueInfo(name: string, meta: InferenceSession.ValueMetadata | undefined): ValueInfo {
  if (!meta || !meta.isTensor) return { name };
  return { name, type: meta.type, shape: meta.shape ? Array.from(meta.shape) : undefined };
}

// ---------------------------------------------------------------------------------------------
// OrtEngine

export interface OrtEngineOptions {
  /** Session options applied to every session (execution providers, optimisation level, …). */
  sessionOptions?: OrtSessionOptions;
  /** Human-readable description for reports (e.g. 'onnxruntime-node 1.30, 2 threads'). */
  label?: string;
  /** Short name for messages (default: the back end's). */
  name?: string;
  /** What the core may rely on (traits.ts). */
  traits: EngineTraits;
}

/** Engine over an injected onnxruntime module. One instance per back end; sessions by id. */
export class OrtEngine implements Engine {
  readonly backend: Backend;
  readonly label: string;
  readonly name: string;
  readonly traits: EngineTraits;
  private readonly ort: OrtModule;
  private readonly baseOptions: OrtSessionOptions;
  private readonly sessions = new Map<number, InferenceSession>();
  private nextId = 1;
  private created = 0;
  private runCount = 0;
  private disposed = false;

  constructor(backend: Backend, ort: OrtModule, opts: OrtEngineOptions) {
    this.backend = backend;
    this.traits = opts.traits;
    this.name = opts.name ?? backend;
    this.ort = ort;
    this.baseOptions = opts.sessionOptions ?? {};
    this.label = opts.label ?? backend;
  }

  /** Sessions created so far (counts.sessions). */
  get sessionsCreated(): number {
    return this.created;
  }

  /** `run` calls completed so far (batches, not samples). */
  get runs(): number {
    return this.runCount;
  }

  /** Sessions currently open. */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** The session options every session gets (copy). */
  get sessionOptions(): OrtSessionOptions {
    return { ...this.baseOptions };
  }

  /** Creates a session. `overrides` are merged over the engine's options for this session only
   *  (e.g. `{ extra: { session: { disable_quant_qdq: '1' } } }` or `logSeverityLevel: 0`). */
  async createSession(model: Uint8Array, overrides?: OrtSessionOptions): Promise<OrtSessionInfo> {
    if (this.disposed) throw new Error(`${this.label}: engine disposed`);
    const options = overrides ? mergeOptions(this.baseOptions, overrides) : this.baseOptions;
    let s: InferenceSession;
    try {
      s = await this.ort.InferenceSession.create(model, options);
    } catch (e) {
      throw new Error(`${this.label}: cannot create an inference session: ${errText(e)}`, { cause: e });
    }
    this.created++;
    const id = this.nextId++;
    this.sessions.set(id, s);
    const inMeta = s.inputMetadata ?? [];
    const outMeta = s.outputMetadata ?? [];
    return {
      id,
      inputNames: [...s.inputNames],
      outputNames: [...s.outputNames],
      inputInfo: s.inputNames.map((n, i) => toValueInfo(n, inMeta[i])),
      outputInfo: s.outputNames.map((n, i) => toValueInfo(n, outMeta[i])),
    };
  }

  /** Runs one batch. With `outputs`, only those are computed and returned (ORT fetches). */
  async run(session: SessionInfo, feeds: Record<string, TensorData>, outputs?: string[]): Promise<Record<string, TensorData>> {
    const s = this.session(session);
    const ortFeeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(this.ort, t, `input '${name}'`);
    const known = new Set(s.outputNames);
    if (outputs) {
      const bad = outputs.filter((o) => !known.has(o));
      if (bad.length) {
        throw new Error(`${this.label}: unknown output(s) ${bad.join(', ')} (model outputs: ${s.outputNames.join(', ')})`);
      }
    }
    let res: Record<string, Tensor>;
    try {
      res = (outputs ? await s.run(ortFeeds, outputs) : await s.run(ortFeeds)) as Record<string, Tensor>;
    } catch (e) {
      throw new Error(`${this.label}: inference failed: ${errText(e)}`, { cause: e });
    }
    this.runCount++;
    const out: Record<string, TensorData> = {};
    for (const name of outputs ?? Object.keys(res)) {
      const t = res[name];
      if (!t) throw new Error(`${this.label}: output '${name}' missing from the result`);
      out[name] = await readOrtTensor(t, `output '${name}'`);
    }
    return out;
  }

  async release(session: SessionInfo): Promise<void> {
    const s = this.sessions.get(session.id);
    if (!s) return;
    this.sessions.delete(session.id);
    await s.release();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.release().catch(() => undefined)));
  }

  private session(info: SessionInfo): InferenceSession {
    const s = this.sessions.get(info.id);
    if (!s) throw new Error(`${this.label}: session ${info.id} is not open (released or from another engine)`);
    return s;
  }
}

function mergeOptions(a: OrtSessionOptions, b: OrtSessionOptions): OrtSessionOptions {
  const m: OrtSessionOptions = { ...a, ...b };
  if (a.extra || b.extra) {
    const ae = (a.extra ?? {}) as Record<string, unknown>;
    const be = (b.extra ?? {}) as Record<string, unknown>;
    const merged: Record<string, unknown> = { ...ae, ...be };
    for (const k of Object.keys(merged)) {
      const x = ae[k],
        y = be[k];
      if (x && y && typeof x === 'object' && typeof y === 'object') merged[k] = { ...x, ...y };
    }
    m.extra = merged;
  }
  return m;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
