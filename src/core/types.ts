import type { EngineTraits } from './engine/traits';

// Types at the seams of the core. Everything here is plain data (structured-clone friendly) so it
// crosses worker boundaries (comlink) and is stored in snapshots unchanged.

/** Element types we move between the core and inference engines. */
export type DType = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string';

export type TypedArray = Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];

/** A dense tensor in host memory. `data.length` equals the product of `dims`. */
export interface TensorData {
  type: DType;
  dims: number[];
  data: TypedArray;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A user-actionable error: which file, which field (or node/tensor), and what was expected. */
export class QuantizeError extends Error {
  readonly file?: string;
  readonly field?: string;
  readonly expected?: string;
  /** The message without the file, field and expectation. */
  readonly reason: string;
  constructor(message: string, opts: { file?: string; field?: string; expected?: string } = {}) {
    const where = [opts.file, opts.field].filter(Boolean).join(': ');
    const tail = opts.expected ? ` (expected ${opts.expected})` : '';
    super(`${where ? where + ': ' : ''}${message}${tail}`);
    this.name = 'QuantizeError';
    this.reason = message;
    this.file = opts.file;
    this.field = opts.field;
    this.expected = opts.expected;
  }

  /** `e` attributed to `file` when it is a QuantizeError naming no file; anything else unchanged. */
  static inFile(e: unknown, file: string): unknown {
    if (!(e instanceof QuantizeError) || e.file) return e;
    return new QuantizeError(e.reason, { file, field: e.field, expected: e.expected });
  }
}

// ---------------------------------------------------------------------------------------------
// Quantization decisions

export type QuantMode = 'symmetric' | 'asymmetric';
export type Granularity = 'pertensor' | 'perchannel';
export type Preset = 'performance' | 'mixed' | 'accuracy';

/**
 * One quantizer (a POT FakeQuantize / an ONNX Q→DQ pair) on one tensor.
 * Activation quantizers sit on a tensor produced at run time; weight quantizers on a constant
 * (initializer) input of a quantizable op.
 */
export interface QuantizerSpec {
  /** Stable id, `a:<tensor>` for activations, `w:<initializer>` for weights. */
  id: string;
  kind: 'activation' | 'weight';
  /** Name of the tensor quantized (activation tensor or weight initializer). */
  tensor: string;
  /** Nodes (by name) whose inputs read the quantized tensor, with the input index. */
  consumers: { node: string; input: number }[];
  mode: QuantMode;
  granularity: Granularity;
  /** Channel axis for per-channel quantizers (weights: output-channel axis of the initializer). */
  axis?: number;
  /** POT levels: 255 for symmetric weights (±127), otherwise 256. */
  levels: number;
  /** Number of channels along `axis` for per-channel quantizers. */
  channels?: number;
  /** Concat unification group: quantizers with the same key share one range. */
  unifiedKey?: string;
  /** The range the tensor's values lie in (an absorbed Clip): the grid is kept inside it, so onnxruntime can drop the Clip. */
  within?: [number, number];
}

/**
 * The integer grid of one quantizer, per channel (length 1 for per-tensor).
 * Fake quantization is `scale * clip(roundHalfEven(x / scale), qmin - zeroPoint, qmax - zeroPoint)`,
 * which is exactly what QuantizeLinear→DequantizeLinear computes.
 */
export interface QuantizerParams {
  scale: Float32Array;
  zeroPoint: Int32Array;
  qmin: number;
  qmax: number;
  /** Storage type when exported: int8 (signed grid) or uint8. */
  dtype: 'int8' | 'uint8';
  /** The POT-style real range `[low, high]` per channel, kept for reports. */
  low: Float32Array;
  high: Float32Array;
}

/** A revert group: the closure of one quantization decision (see src/core/quant/groups.ts). */
export interface RevertGroup {
  /** Id of the quantizer that seeded the group (POT's "trigger FQ"). */
  id: string;
  /** Quantizer ids switched off when this group is reverted. */
  quantizers: string[];
  /** Quantizable op names returned to FP32 precision ("layers reverted"). */
  ops: string[];
}

// ---------------------------------------------------------------------------------------------
// Engine

export type Backend = 'native' | 'wasm' | 'webgpu';

export interface SessionInfo {
  id: number;
  inputNames: string[];
  outputNames: string[];
}

/** One inference back end (onnxruntime-node, onnxruntime-web WASM, onnxruntime-web WebGPU). */
export interface Engine {
  readonly backend: Backend;
  /** Human-readable description for reports (e.g. 'onnxruntime-node 1.30.0'). */
  readonly label: string;
  /** Short name for messages (e.g. 'WASM', 'WebGPU'). */
  readonly name: string;
  /** What the core may rely on (src/core/engine/traits.ts); declared by the engine definitions. */
  readonly traits: EngineTraits;
  /** Sessions created so far (reported as counts.sessions). */
  readonly sessionsCreated: number;
  /** `options` are back-end session options merged over the engine's defaults (onnxruntime SessionOptions). */
  createSession(model: Uint8Array, options?: Record<string, unknown>): Promise<SessionInfo>;
  run(session: SessionInfo, feeds: Record<string, TensorData>, outputs?: string[]): Promise<Record<string, TensorData>>;
  release(session: SessionInfo): Promise<void>;
  dispose(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Data and metrics

/** One labelled (or unlabelled, label = -1) sample already preprocessed to the model's input. */
export interface Sample {
  /** Input tensor for one sample, without the batch dimension in dims (e.g. [1,28,28]). */
  input: Float32Array;
  label: number;
}

/** A dataset of N samples, read lazily (core code never assumes it all fits in memory). */
export interface Dataset {
  readonly size: number;
  /** Shape of one preprocessed sample, without batch (e.g. [1, 28, 28] for NCHW gray). */
  readonly sampleShape: number[];
  readonly hasLabels: boolean;
  /** Class names when known (image folders). */
  readonly classNames?: string[];
  /** A stable fingerprint of the data (content hash), for snapshots. */
  fingerprint(): Promise<string>;
  get(index: number): Promise<Sample>;
}

/** A metric's name: one registered in src/core/metrics/registry.ts (checked there at run time:
 *  isMetricName, metricDefinition), e.g. 'accuracy@top1'. */
export type MetricName = string;

/** What the AAQ loop needs of a metric (the registry's metricDef gives it). */
export interface MetricDef {
  name: MetricName;
  direction: 'higher-better' | 'lower-better';
  needsLabels: boolean;
}

// ---------------------------------------------------------------------------------------------
// Run progress

export type Stage = 'load' | 'statistics' | 'baseline' | 'quantize' | 'quantized-eval' | 'mixed-preset' | 'tuning' | 'ranking' | 'iteration' | 'export' | 'done';

export interface RunEvent {
  stage: Stage;
  /** Work done / total in this stage (samples or steps). */
  done: number;
  total: number;
  message?: string;
  /** Free-form payload (iteration record, ranking, metrics). */
  data?: unknown;
}

export type ProgressFn = (e: RunEvent) => void;

// ---------------------------------------------------------------------------------------------
// Snapshots

/** Stores small JSON-able run snapshots and the original model bytes, keyed by run id. */
export interface SnapshotStore {
  put(runId: string, key: string, value: unknown): Promise<void>;
  get<T = unknown>(runId: string, key: string): Promise<T | undefined>;
  putBytes(runId: string, key: string, bytes: Uint8Array): Promise<void>;
  getBytes(runId: string, key: string): Promise<Uint8Array | undefined>;
  list(): Promise<string[]>;
  delete(runId: string): Promise<void>;
}
