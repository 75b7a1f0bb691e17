// One run inside the run worker: set up from the picked files (or from IndexedDB when resuming),
// drive the core's AccuracyAwareQuantization with a checkpoint after every step, export the QDQ
// model and the report. Mirrors `aaq quantize` (src/cli/main.ts).

import { runAccuracyAware } from '../src/core/algorithms/accuracy-aware';
import { runDefaultQuantization } from '../src/core/algorithms/default-quantization';
import type { AaqResult, AaqRunState } from '../src/core/algorithms/history';
import type { QuantState } from '../src/core/algorithms/backend';
import { OnnxQuantizationBackend } from '../src/core/evaluation/onnx-backend';
import { encodeModel } from '../src/core/onnx/proto';
import { IdbSnapshotStore, StorageFullError } from '../src/core/store/idb-store';
import { QuantizeError, type RunEvent } from '../src/core/types';
import { collectGroupOps, digestOf, emptyDigest, type DigestContext } from './digest';
import { createEngine, fallbackToWasm, GatedEngine, PauseGate, type CreatedEngine } from './engine';
import type { DataFile, DataInput, RunDigest, RunMeta, RunOutcome, RunSettings, StartRequest, UiEvent } from './protocol';
import { buildReport } from './report';
import { prepareBrowserRun, type BrowserSetup } from './setup';
import { checkLabels } from '../src/core/run/input-checks';

/** Data files up to this size are kept in IndexedDB with the run, so a resume needs no re-pick. */
const KEEP_DATA_BYTES = 64 * 1024 * 1024;

export const DEFAULT_SETTINGS: RunSettings = { backend: 'wasm', batchSize: 16, threads: 2, mode: 'auto' };

/** Raised when a resumed run needs its data picked again (the browser did not keep it). */
export class DataNeededError extends Error {
  constructor(runId: string, dataName: string) {
    super(`The browser did not keep the data of run ${runId} (${dataName}): pick the same data files again to resume; they are checked against the run's fingerprint.`);
    this.name = 'DataNeededError';
  }
}

/** Throttles progress events to ~10 per second per stage; stage changes and payloads always pass. */
function progressEmitter(emit: (e: UiEvent) => void): (e: RunEvent) => void {
  let lastStage = '';
  let last = 0;
  return (e) => {
    const now = performance.now();
    const important = e.stage !== lastStage || e.data !== undefined || e.done >= e.total || e.done === 0;
    if (!important && now - last < 100) return;
    lastStage = e.stage;
    last = now;
    emit({ type: 'progress', event: e, at: Date.now() });
  };
}

async function keptData(store: IdbSnapshotStore, runId: string): Promise<DataInput | undefined> {
  return store.get<DataInput>(runId, 'data');
}

interface Loaded {
  meta: RunMeta;
  modelBytes: Uint8Array;
  data: DataInput;
  resumeFrom?: AaqRunState;
  digest?: RunDigest;
}

async function load(store: IdbSnapshotStore, req: StartRequest): Promise<Loaded> {
  if (req.resume) {
    const meta = await store.get<RunMeta>(req.runId, 'meta');
    const modelBytes = await store.getBytes(req.runId, 'model');
    if (!meta || !modelBytes) throw new QuantizeError(`run ${req.runId} is not in this browser's storage (deleted, or storage was cleared)`);
    const data = req.data ?? (await keptData(store, req.runId));
    if (!data) throw new DataNeededError(req.runId, meta.dataName);
    const resumeFrom = await store.get<AaqRunState>(req.runId, 'state');
    const digest = await store.get<RunDigest>(req.runId, 'digest');
    return { meta: { ...meta, settings: req.settings ?? meta.settings }, modelBytes, data, resumeFrom, digest };
  }
  if (!req.configText || !req.model || !req.data) throw new Error('a new run needs a config, a model and data');
  const now = Date.now();
  const meta: RunMeta = {
    runId: req.runId, title: req.title ?? req.model.name, createdAt: now, updatedAt: now, status: 'running',
    algorithm: 'AccuracyAwareQuantization', modelName: req.model.name, modelBytes: req.model.bytes.byteLength,
    dataName: req.data.name, dataSize: 0, dataStored: false, configText: req.configText,
    settings: req.settings ?? DEFAULT_SETTINGS, fingerprints: { model: '', data: '', config: '' },
    counts: { inferences: 0, sessions: 0 }, phase: 'baseline', iterations: 0,
  };
  return { meta, modelBytes: req.model.bytes, data: req.data };
}

function checkSame(meta: RunMeta, setup: BrowserSetup): void {
  const what = { model: 'model', data: 'data files', config: 'configuration' } as const;
  for (const k of ['model', 'data', 'config'] as const) {
    if (meta.fingerprints[k] !== setup.fingerprints[k]) {
      throw new QuantizeError(`the ${what[k]} differ from the interrupted run's (fingerprint ${setup.fingerprints[k].slice(0, 12)}… ≠ ${meta.fingerprints[k].slice(0, 12)}…); refusing to resume`, {
        expected: `the same ${what[k]} as run ${meta.runId}`,
      });
    }
  }
}

async function withRunLock<T>(runId: string, f: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return f();
  return locks.request(`aaq-run:${runId}`, f) as Promise<T>;
}

export async function runSession(req: StartRequest, emit: (e: UiEvent) => void, gate: PauseGate): Promise<RunOutcome> {
  const store = new IdbSnapshotStore();
  const t0 = performance.now();
  const loaded = await load(store, req);
  const meta = loaded.meta;
  const saveMeta = async (patch: Partial<RunMeta>) => {
    Object.assign(meta, patch, { updatedAt: Date.now() });
    await store.put(meta.runId, 'meta', meta);
    emit({ type: 'meta', meta: { ...meta } });
  };
  try {
    return await withRunLock(meta.runId, () => execute(store, req, loaded, saveMeta, emit, gate, t0));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (!(e instanceof DataNeededError)) await saveMeta({ status: 'failed', error: message }).catch(() => undefined);
    throw e;
  }
}

async function execute(
  store: IdbSnapshotStore,
  req: StartRequest,
  loaded: Loaded,
  saveMeta: (patch: Partial<RunMeta>) => Promise<void>,
  emit: (e: UiEvent) => void,
  gate: PauseGate,
  t0: number,
): Promise<RunOutcome> {
  const { meta, modelBytes, data } = loaded;
  const log = (message: string) => emit({ type: 'log', message });
  const setup = await prepareBrowserRun(meta.configText, meta.modelName, modelBytes, data);
  const warnings = [...setup.parsed.warnings, ...setup.dataset.warnings];
  for (const w of warnings) emit({ type: 'warning', message: w });
  if (req.resume) {
    checkSame(meta, setup);
    log(loaded.resumeFrom ? `Resuming from phase '${loaded.resumeFrom.phase}' (${loaded.resumeFrom.history.length} iterations done)` : 'Restarting the run from the beginning (no step was completed)');
  } else {
    await store.delete(meta.runId);
    await store.putBytes(meta.runId, 'model', modelBytes);
    const size = data.files.reduce((n, f) => n + f.file.size, 0);
    let dataStored = false;
    if (size <= KEEP_DATA_BYTES) {
      try {
        await store.put(meta.runId, 'data', data);
        dataStored = true;
      } catch (e) {
        if (!(e instanceof StorageFullError)) throw e;
        emit({ type: 'warning', message: `The data files were not kept in browser storage (${e.message}); a resume will ask for them again.` });
      }
    }
    meta.algorithm = setup.algorithm.name;
    meta.dataSize = setup.dataset.size;
    meta.fingerprints = setup.fingerprints;
    await saveMeta({ dataStored, status: 'running' });
  }
  await saveMeta({ status: 'running', error: undefined });

  const settings = meta.settings;
  let created = await createEngine(settings.backend, settings.threads);
  emit({ type: 'engine', info: created.info });
  if (created.info.fallback) emit({ type: 'warning', message: created.info.fallback });

  // Test hook: the WebGPU device is "lost" after the first snapshot (a page opened with ?test).
  let gpuLost = false;
  const lostError = () => {
    const e = new Error('GPUDevice was lost: simulated device loss (test hook)');
    e.name = 'OperationError';
    return e;
  };
  const makeBackend = (c: CreatedEngine) =>
    new OnnxQuantizationBackend({
      engine: new GatedEngine(c.engine, gate, c.info.backend === 'webgpu' ? () => (gpuLost ? lostError() : null) : undefined), model: setup.model, dataset: setup.dataset, metrics: setup.metrics,
      placementParams: setup.params, batchSize: settings.batchSize, flavor: c.info.flavor, mode: settings.mode,
      tuningStats: setup.algorithm.name === 'AccuracyAwareQuantization' && setup.algorithm.params.tune_hyperparams,
      prefixCache: setup.algorithm.name === 'AccuracyAwareQuantization' && setup.algorithm.params.prefix_cache,
    });
  let backend = makeBackend(created);
  try {
    await backend.openFp32Session();
  } catch (e) {
    // The model does not load on the WebGPU EP (an operator or type it lacks): WASM instead.
    if (created.info.backend !== 'webgpu') throw new QuantizeError(`the model cannot be loaded for inference: ${(e as Error).message}`, { file: meta.modelName });
    await backend.dispose().catch(() => undefined);
    await created.engine.dispose().catch(() => undefined);
    created = await fallbackToWasm({ requested: 'webgpu', crossOriginIsolated: self.crossOriginIsolated }, settings.threads, `WebGPU cannot load this model (${(e as Error).message})`);
    emit({ type: 'engine', info: created.info });
    emit({ type: 'warning', message: created.info.fallback! });
    backend = makeBackend(created);
    await backend.openFp32Session();
  }
  // As the CLI: the model runs on sample 0 and the labels fit the classes it scores.
  const ds = setup.parsed.config.engine.dataset;
  checkLabels(setup.dataset, await backend.probe(), setup.metrics, { data: ds.data_source, labels: ds.labels });
  const groupOps = new Map<string, string[]>(Object.entries(loaded.digest?.groupOps ?? {}));
  const layers = backend.placement.ops.map((name) => ({ name, op: backend.idx.nodes[backend.idx.nodeByName.get(name)!]?.opType ?? '?' }));
  const dctx = (): DigestContext => ({ params: setup.params, layers, int8: [], groupOps });
  const progress = progressEmitter(emit);
  let prior = { ...meta.counts };
  const counts = () => {
    const c = backend.counts();
    return { inferences: prior.inferences + c.inferences, sessions: prior.sessions + c.sessions };
  };

  let state: QuantState;
  let baseline: Record<string, number>, quantized: Record<string, number>, final: Record<string, number>, drop: Record<string, number>;
  let labelFree: boolean;
  let aaq: AaqResult | undefined;
  if (setup.algorithm.name === 'DefaultQuantization') {
    emit({ type: 'digest', digest: emptyDigest(dctx()) });
    const r = await runDefaultQuantization(backend, setup.algorithm.params, { progress, log });
    ({ state, baseline, quantized, drop, labelFree } = r);
    final = r.quantized;
    const d = emptyDigest({ ...dctx(), int8: backend.quantizedOps(state) });
    emit({ type: 'digest', digest: { ...d, phase: 'done', metrics: r.metrics, baseline, quantized: { metrics: quantized, drop }, current: { metrics: quantized, drop } } });
  } else {
    const params = setup.algorithm.params;
    let resumeFrom = loaded.resumeFrom;
    emit({ type: 'digest', digest: resumeFrom ? digestOf(resumeFrom, { ...dctx(), int8: resumeFrom.current ? backend.quantizedOps(resumeFrom.current.state) : [] }) : emptyDigest(dctx()) });
    const checkpoint = async (s: AaqRunState) => {
      collectGroupOps(s, groupOps);
      const digest = digestOf(s, { ...dctx(), int8: s.current ? backend.quantizedOps(s.current.state) : [] });
      await store.put(meta.runId, 'state', s);
      await store.put(meta.runId, 'digest', digest);
      await saveMeta({ phase: s.phase, iterations: s.history.length, counts: counts() });
      emit({ type: 'digest', digest });
      if (req.test?.loseGpuAfterSnapshot && created.info.backend === 'webgpu') gpuLost = true;
    };
    for (;;) {
      try {
        aaq = await runAccuracyAware(backend, params, { resumeFrom, progress, log, checkpoint });
        break;
      } catch (e) {
        // WebGPU failed mid-run (device lost, a kernel error): carry on from the last completed
        // step on WASM, and say so.
        if (created.info.backend !== 'webgpu' || e instanceof QuantizeError || e instanceof StorageFullError) throw e;
        const why = `WebGPU failed during the run (${(e as Error).message})`;
        prior = counts();
        await backend.dispose().catch(() => undefined);
        await created.engine.dispose().catch(() => undefined);
        created = await fallbackToWasm({ requested: 'webgpu', crossOriginIsolated: self.crossOriginIsolated }, settings.threads, why);
        emit({ type: 'engine', info: created.info });
        emit({ type: 'warning', message: created.info.fallback! });
        backend = makeBackend(created);
        resumeFrom = await store.get<AaqRunState>(meta.runId, 'state');
        log(`${why}; resuming from the last completed step on WASM`);
      }
    }
    ({ state, baseline, quantized, final, drop, labelFree } = aaq);
  }

  progress({ stage: 'export', done: 0, total: 1, message: 'writing the QDQ model' });
  const tExport = performance.now();
  const qdq = encodeModel(backend.exportModel(state));
  backend.timings.export = performance.now() - tExport;
  progress({ stage: 'export', done: 1, total: 1 });
  const report = buildReport({
    setup, backend, engine: { backend: created.info.backend, label: created.info.label }, modelName: meta.modelName,
    modelBytes: modelBytes.byteLength, qdqBytes: qdq.byteLength, state, baseline, quantized, final, drop, labelFree, aaq,
    priorCounts: prior, totalMs: performance.now() - t0, warnings,
  });
  await store.put(meta.runId, 'report', report);
  await store.putBytes(meta.runId, 'qdq', qdq);
  const metric = Object.keys(final)[0];
  await saveMeta({
    status: 'done', phase: 'done', counts: report.counts, iterations: aaq?.history.length ?? 0,
    final: { metric, fp32: baseline[metric], int8: quantized[metric], final: final[metric], drop: drop[metric], reverted: report.reverted.length },
  });
  await backend.dispose().catch(() => undefined);
  await created.engine.dispose().catch(() => undefined);
  return { report, qdq, meta: { ...meta } };
}

export async function fingerprintFor(data: DataInput, runId: string): Promise<{ fingerprint: string; expected: string; same: boolean }> {
  const store = new IdbSnapshotStore();
  const meta = await store.get<RunMeta>(runId, 'meta');
  const modelBytes = await store.getBytes(runId, 'model');
  if (!meta || !modelBytes) throw new QuantizeError(`run ${runId} is not in this browser's storage`);
  const setup = await prepareBrowserRun(meta.configText, meta.modelName, modelBytes, data);
  return { fingerprint: setup.fingerprints.data, expected: meta.fingerprints.data, same: setup.fingerprints.data === meta.fingerprints.data };
}

export type { DataFile };
