// What the run reports is what it deploys. The quantization search decides on a fake-quant
// simulation run under exact session options; onnxruntime runs the exported QDQ file with its
// default optimizations, i.e. its integer kernels (QLinearConv, …), whose int32 accumulation and
// requantization round differently. After the export, the exported file is therefore evaluated
// as onnxruntime runs it — a session with the engine's default options, on every validation
// sample — and those are the report's final metrics (the simulated ones kept beside them); it is
// compared with the simulation (metric and top-1 agreement); and FP32 vs INT8 latency is timed on
// the same back end, one session alive at a time.
import type { QuantState } from '../algorithms/backend';
import { computeDrops, restrictionsMet, type MetricSpec, type Metrics } from '../algorithms/drop';
import { DEPLOYED_SESSION_OPTIONS, type OnnxQuantizationBackend } from '../evaluation/onnx-backend';
import type { ModelProto } from '../onnx/proto';
import { makeTensor, readTensor } from '../onnx/tensor';
import type { ExportedMeasurement, LatencyMeasurement, LatencyRow } from '../report';
import type { Dataset, Engine, ProgressFn, SessionInfo, TensorData } from '../types';

/** The exported model and the simulation disagree when a metric or the top-1 agreement differs by more than this. */
export const DISAGREEMENT_LIMIT = 0.005;
/** Samples the simulation's top-1 is compared on (its first ones). */
export const AGREEMENT_SAMPLES = 300;
/** Latency: runs before timing, then timed runs until both minimums are reached (or the maximum). */
export const LATENCY_WARMUP = 2;
export const LATENCY_MIN_RUNS = 5;
export const LATENCY_MAX_RUNS = 25;
export const LATENCY_MIN_MS = 250;

export interface DeploymentInput {
  backend: OnnxQuantizationBackend;
  /** The state exported and the simulated metrics the search ended with. */
  state: QuantState;
  simulated: Metrics;
  baseline: Metrics;
  specs: MetricSpec[];
  /** maximal_drop per metric (AAQ); absent for DefaultQuantization. */
  thresholds?: Metrics;
  /** The exported QDQ file and the FP32 file it is timed against. */
  qdq: Uint8Array;
  fp32: Uint8Array;
  /** Engines to measure on: the first gives the final metrics (the run's engine in the CLI; WASM
   *  in the studio, with WebGPU after it when the run is on WebGPU). */
  engines: Engine[];
  /** The run's batch size (latency is timed at batch 1 and this one). */
  batchSize: number;
  progress?: ProgressFn;
  log?(message: string): void;
}

export interface DeploymentResult {
  /** Per engine, in the order given: the first one is the final figures. */
  exported: ExportedMeasurement[];
  latency: LatencyMeasurement[];
  /** The measured drops within the thresholds (undefined without thresholds). */
  met?: boolean;
  /** Disagreement warnings (deterministic: they depend on outputs, not on time). */
  warnings: string[];
  ms: number;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export async function checkDeployment(d: DeploymentInput): Promise<DeploymentResult> {
  const t0 = performance.now();
  const { backend } = d;
  const n = backend.datasetSize;
  const log = d.log ?? (() => undefined);
  // The simulation's top-1 on the first samples (its sessions are alive anyway), then every
  // evaluation session goes: from here on one session is alive at a time.
  const subset = Array.from({ length: Math.min(n, AGREEMENT_SAMPLES) }, (_, i) => i);
  const simTop1 = await backend.predictions(d.state, subset);
  await backend.fp32References(Array.from({ length: n }, (_, i) => i));
  await backend.releaseSessions();

  const exported: ExportedMeasurement[] = [];
  const latency: LatencyMeasurement[] = [];
  const warnings: string[] = [];
  for (const engine of d.engines) {
    const te = performance.now();
    d.progress?.({ stage: 'export', done: 0, total: n, message: `measuring the exported model on ${engine.name} (onnxruntime's default options)` });
    const ev = await backend.evaluateDeployed(d.qdq, {
      engine,
      progress: (done, total) => d.progress?.({ stage: 'export', done, total, message: `measuring the exported model on ${engine.name}` }),
    });
    let agree = 0;
    subset.forEach((i) => (agree += ev.top1[i] === simTop1[i] ? 1 : 0));
    const metrics: Metrics = {};
    for (const s of d.specs) metrics[s.name] = ev.metrics[s.name];
    const m: ExportedMeasurement = {
      backend: engine.backend,
      name: engine.name,
      label: engine.label,
      session_options: 'default',
      samples: n,
      metrics,
      drop: computeDrops(d.specs, d.baseline, metrics),
      simulated: { ...d.simulated },
      agreement_top1: subset.length ? agree / subset.length : 1,
      agreement_samples: subset.length,
      eval_ms: performance.now() - te,
    };
    exported.push(m);
    const w = disagreement(m, d.specs);
    if (w) {
      warnings.push(w);
      log(w);
    }
    d.progress?.({ stage: 'export', done: 0, total: 1, message: `timing FP32 and INT8 on ${engine.name}` });
    const lat = await measureLatency(engine, d.fp32, d.qdq, backend.opts.dataset, backend.inputName, backend.outputName, d.batchSize);
    latency.push(lat);
    if (lat.warning) log(lat.warning);
  }
  const met = d.thresholds ? restrictionsMet(d.specs, exported[0].drop, d.thresholds) : undefined;
  return { exported, latency, met, warnings, ms: performance.now() - t0 };
}

/** The warning when the exported model, as `m`'s engine runs it, disagrees with the simulation. */
export function disagreement(m: ExportedMeasurement, specs: MetricSpec[]): string | undefined {
  const apart = specs.filter((s) => Math.abs(m.metrics[s.name] - m.simulated[s.name]) > DISAGREEMENT_LIMIT);
  const lowAgreement = m.agreement_top1 < 1 - DISAGREEMENT_LIMIT;
  if (!apart.length && !lowAgreement) return undefined;
  const parts = specs.map((s) => `${s.name} ${pct(m.metrics[s.name])} exported vs ${pct(m.simulated[s.name])} simulated`);
  return (
    `The exported model, as ${m.name} runs it (default options), disagrees with the simulation the search decided on by more than ${pct(DISAGREEMENT_LIMIT)}: ` +
    `${parts.join(', ')}; top-1 agreement ${pct(m.agreement_top1)} on ${m.agreement_samples} samples. The report's final figures are the exported model's.`
  );
}

/**
 * FP32 vs INT8 latency on `engine` with its default session options: per model one session (the
 * FP32 one released before the INT8 one is created), per batch size LATENCY_WARMUP untimed runs
 * then the median of LATENCY_MIN_RUNS…LATENCY_MAX_RUNS timed ones. Batch 1 and `batchSize`, or the
 * model's fixed batch.
 */
export async function measureLatency(
  engine: Engine,
  fp32: Uint8Array,
  int8: Uint8Array,
  dataset: Dataset,
  inputName: string,
  outputName: string,
  batchSize: number,
): Promise<LatencyMeasurement> {
  const batches = new Map<number, { fp32: number; int8: number }>();
  let fixed: number | undefined;
  for (const [which, bytes] of [
    ['fp32', fp32],
    ['int8', int8],
  ] as const) {
    const session = await engine.createSession(bytes, { ...DEPLOYED_SESSION_OPTIONS });
    try {
      fixed ??= fixedBatch(session, inputName);
      const sizes = fixed ? [fixed] : [...new Set([1, Math.max(1, Math.min(batchSize, 256))])];
      for (const b of sizes) {
        const feeds = { [inputName]: await batchOf(dataset, b) };
        const ms = await timeRuns(engine, session, feeds, outputName);
        const row = batches.get(b) ?? { fp32: NaN, int8: NaN };
        row[which] = ms;
        batches.set(b, row);
      }
    } finally {
      await engine.release(session);
    }
  }
  const rows: LatencyRow[] = [...batches].map(([batch, r]) => ({ batch, fp32_ms: round3(r.fp32), int8_ms: round3(r.int8), ratio: round3(r.int8 / r.fp32) }));
  const slower = rows.filter((r) => r.int8_ms > r.fp32_ms);
  const m: LatencyMeasurement = {
    backend: engine.backend,
    label: engine.label,
    warmup: LATENCY_WARMUP,
    runs: `median of ${LATENCY_MIN_RUNS}–${LATENCY_MAX_RUNS}`,
    rows,
  };
  if (slower.length) {
    m.warning =
      `The INT8 model is slower than FP32 on ${engine.label}: ` +
      slower.map((r) => `batch ${r.batch} ${r.int8_ms.toFixed(2)} ms vs ${r.fp32_ms.toFixed(2)} ms (×${r.ratio.toFixed(2)})`).join(', ') +
      '. onnxruntime runs Q/DQ pairs it cannot fuse into integer kernels as dequantize → float operator → quantize.';
  }
  return m;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The model's batch dimension when it is a fixed number (from the session's metadata). */
function fixedBatch(session: SessionInfo, inputName: string): number | undefined {
  const info = (session as SessionInfo & { inputInfo?: { name: string; shape?: (number | string)[] }[] }).inputInfo;
  const d = info?.find((v) => v.name === inputName)?.shape?.[0];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** The first `b` samples (repeated when the data has fewer) as one input batch. */
async function batchOf(dataset: Dataset, b: number): Promise<TensorData> {
  const len = dataset.sampleShape.reduce((a, x) => a * x, 1);
  const data = new Float32Array(b * len);
  for (let k = 0; k < b; k++) data.set((await dataset.get(k % dataset.size)).input, k * len);
  return { type: 'float32', dims: [b, ...dataset.sampleShape], data };
}

async function timeRuns(engine: Engine, session: SessionInfo, feeds: Record<string, TensorData>, outputName: string): Promise<number> {
  for (let i = 0; i < LATENCY_WARMUP; i++) await engine.run(session, feeds, [outputName]);
  const times: number[] = [];
  let total = 0;
  while (times.length < LATENCY_MAX_RUNS && (times.length < LATENCY_MIN_RUNS || total < LATENCY_MIN_MS)) {
    const t = performance.now();
    await engine.run(session, feeds, [outputName]);
    const ms = performance.now() - t;
    times.push(ms);
    total += ms;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Test hook: a deliberately broken export — the first weight scale (an initializer feeding a
 * DequantizeLinear whose input is an initializer) multiplied by `factor`. Returns the tensor's name.
 */
export function breakExportScale(model: ModelProto, factor = 4): string {
  const g = model.graph!;
  const inits = g.initializer ?? [];
  const at = new Map(inits.map((t, i) => [t.name!, i]));
  for (const n of g.node ?? []) {
    if (n.opType !== 'DequantizeLinear' || !at.has(n.input![0]) || !at.has(n.input![1])) continue;
    const i = at.get(n.input![1])!;
    const t = readTensor(inits[i]);
    const scaled = Float32Array.from(t.data as Float32Array, (v) => v * factor);
    inits[i] = makeTensor(inits[i].name!, 'float32', t.dims, scaled);
    return inits[i].name!;
  }
  throw new Error('the exported model has no weight DequantizeLinear to break');
}
