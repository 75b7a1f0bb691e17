// What the page and the run worker say to each other (comlink). Plain data only: everything here is
// structured-clone friendly, and the same objects are stored in IndexedDB.

import type { RunEvent } from '../src/core/types';
import type { HistoryEntry, RevertedGroup, AaqStatus } from '../src/core/algorithms/history';
import type { RunReport } from '../src/core/report';
import type { NormalizeReport } from '../src/core/onnx/normalize';

export type BackendChoice = 'wasm' | 'webgpu';
/** How candidate states are evaluated, as the CLI's --mode: 'auto' is the mode the bench measured
 *  faster on the back end, 'calibrate' measures both at run time (src/core/evaluation/eval-mode.ts). */
export type EvalMode = 'auto' | 'calibrate' | 'switchable' | 'session-per-config';

/** One data file, its path relative to the data root ('/'-separated), and its content. */
export interface DataFile {
  path: string;
  file: Blob;
}

export interface DataInput {
  /** Shown to people: the folder or file name. */
  name: string;
  files: DataFile[];
}

export interface RunSettings {
  backend: BackendChoice;
  batchSize: number;
  /** WASM threads (used when the page is cross-origin isolated). */
  threads: number;
  mode: EvalMode;
  /** MiB the run's caches may hold (decoded samples, cached activations; src/core/run/memory.ts).
   *  Absent in runs stored before it existed: the default. */
  memoryMiB?: number;
}

// ---------------------------------------------------------------------------------------------
// Load screen

export interface ValueSummary {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface ModelSummary {
  fileName: string;
  bytes: number;
  opset: number;
  irVersion: number;
  producer: string;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  nodes: number;
  parameters: number;
  opCounts: { op: string; count: number; quantizable: boolean }[];
  normalize: NormalizeReport;
  layers: { name: string; op: string }[];
  quantizers: { activations: number; weights: number };
  groups: number;
  /** Things we leave alone or cannot do, each with the reason. */
  limits: { what: string; reason: string }[];
  sampleShape: number[];
  layout: 'NCHW' | 'NHWC';
  /** Output classes (last output dim), when known. */
  classes?: number;
  /** Our guess of the color mode from the input channels. */
  color: 'gray' | 'rgb';
}

export interface PreviewImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export interface PreviewSample {
  index: number;
  label: number;
  className?: string;
  file?: string;
  raw?: PreviewImage;
  input: PreviewImage;
  stats: { min: number; max: number; mean: number };
}

export interface DataPreview {
  kind: 'images' | 'npy' | 'idx';
  size: number;
  hasLabels: boolean;
  classNames?: string[];
  sampleShape: number[];
  warnings: string[];
  labelCounts: { label: number; name?: string; count: number }[];
  /** null when labels fit the model output; otherwise why not. */
  labelProblem: string | null;
  /** Labels beyond the model's output classes: the run cannot start (see workers/label-check.ts). */
  labelsOutOfRange: boolean;
  samples: PreviewSample[];
}

// ---------------------------------------------------------------------------------------------
// Runs

export interface StartRequest {
  runId: string;
  /** true: continue the run stored under runId (model, config and state from IndexedDB). */
  resume: boolean;
  /** A new run: the POT config JSON (data paths relative to the data root). */
  configText?: string;
  model?: { name: string; bytes: Uint8Array };
  /** A new run, or a resumed run whose data the browser did not keep. */
  data?: DataInput;
  settings?: RunSettings;
  /** Display name of the run. */
  title?: string;
  /** Fault injection for the browser tests (only sent by a page opened with `?test`). */
  test?: { loseGpuAfterSnapshot?: boolean; /** Export a deliberately broken model (a weight scale ×4). */ breakExportScale?: boolean };
}

export type RunStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

/** The run's record in IndexedDB ('meta'); the list of past runs is made of these. */
export interface RunMeta {
  runId: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  status: RunStatus;
  algorithm: 'DefaultQuantization' | 'AccuracyAwareQuantization';
  modelName: string;
  modelBytes: number;
  dataName: string;
  dataSize: number;
  /** Data files are in IndexedDB too (false: too big or storage refused; ask for them again). */
  dataStored: boolean;
  configText: string;
  settings: RunSettings;
  fingerprints: { model: string; data: string; config: string };
  counts: { inferences: number; sessions: number };
  phase: string;
  iterations: number;
  /** Run time up to the last stored step, every part of a resumed run together (ms). */
  elapsedMs?: number;
  error?: string;
  /** Final summary when done. */
  final?: { metric: string; fp32: number; int8: number; final: number; drop: number; reverted: number };
}

/** Everything the Watch screen draws, rebuilt after every completed step (and stored). */
export interface RunDigest {
  phase: string;
  status: AaqStatus | null;
  metrics: { name: string; direction: string }[];
  maximalDrop: number;
  dropType: 'absolute' | 'relative';
  thresholds: Record<string, number> | null;
  baseline: Record<string, number> | null;
  quantized: { metrics: Record<string, number>; drop: Record<string, number> } | null;
  current: { metrics: Record<string, number>; drop: Record<string, number> } | null;
  history: HistoryEntry[];
  rankings: { afterIteration: number; metric: string; subsetSize: number; scores: { group: string; score: number }[] }[];
  /** Ops of each group seen in a ranking (seed id → ops). */
  groupOps: Record<string, string[]>;
  reverted: RevertedGroup[];
  layers: { name: string; op: string }[];
  /** Ops at INT8 in the current state. */
  int8: string[];
  groupsTotal: number;
  messages: string[];
}

export interface EngineInfo {
  requested: BackendChoice;
  backend: BackendChoice;
  label: string;
  threads: number;
  crossOriginIsolated: boolean;
  adapter?: { vendor: string; architecture: string; device: string; description: string };
  /** Why we are not on the requested back end (shown to people). */
  fallback?: string;
  flavor: 'qdq' | 'float';
}

export type UiEvent =
  | { type: 'progress'; event: RunEvent; at: number }
  | { type: 'log'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'engine'; info: EngineInfo }
  | { type: 'meta'; meta: RunMeta }
  | { type: 'digest'; digest: RunDigest }
  | { type: 'paused'; paused: boolean }
  /** A resume goes on from a stored step: the phase it goes on at and the run time before it (ms). */
  | { type: 'resumed'; phase: string; elapsedMs: number };

export interface RunOutcome {
  report: RunReport;
  qdq: Uint8Array;
  meta: RunMeta;
}

/** Test-only (workers/self-check.ts, reached through the `?test` page hook): FP32 and every
 *  quantizer off, on the first `samples` samples, through a run's engine wrapper and backend. */
export interface SelfCheckRequest {
  configText: string;
  model: { name: string; bytes: Uint8Array };
  data: DataInput;
  /** Default 32. */
  samples?: number;
  /** WASM threads (default 2; 1 when the page is not cross-origin isolated). */
  threads?: number;
  /** Default 16, as a run. */
  batchSize?: number;
}

export interface SelfCheckResult {
  engine: string;
  threads: number;
  crossOriginIsolated: boolean;
  samples: number;
  sampleShape: number[];
  outputName: string;
  /** Dims of one sample's output ([1, …]). */
  outputDims: number[];
  quantizers: number;
  /** Sessions created through the engine wrapper (FP32 and switchable: 2). */
  sessions: number;
  /** The preprocessed samples fed, concatenated. */
  inputs: Float32Array;
  /** Outputs of the FP32 session and of the switchable session with every quantizer off, per sample, concatenated. */
  fp32: Float32Array;
  allOff: Float32Array;
}

/** The run worker's API (comlink). */
export interface RunWorkerApi {
  inspectModel(name: string, bytes: Uint8Array): Promise<ModelSummary>;
  previewData(data: DataInput, configText: string, summary: ModelSummary): Promise<DataPreview>;
  /** What `aaq quantize` checks before a run starts, on these files (workers/run-check.ts): null, or its message. */
  checkRun(configText: string, modelName: string, modelBytes: Uint8Array, data: DataInput): Promise<string | null>;
  /** Fingerprint of data picked again for a resumed run, to compare with the stored one. */
  dataFingerprint(data: DataInput, runId: string): Promise<{ fingerprint: string; expected: string; same: boolean }>;
  start(req: StartRequest, onEvent: (e: UiEvent) => void): Promise<RunOutcome>;
  pause(): void;
  resume(): void;
  /** Test-only: see SelfCheckRequest. */
  selfCheck(req: SelfCheckRequest): Promise<SelfCheckResult>;
}
