// One run inside the run worker: the studio's shell over the run pipeline of src/core/run/ (the
// same as `aaq quantize`'s): the picked files (or those kept in IndexedDB when resuming) in, the
// run's record, state and digest stored after every step, the QDQ model and the report out.

import { breakExportScale } from '../src/core/run/deployment';
import { executeRun } from '../src/core/run/execute';
import { OpenedRun } from '../src/core/run/open-run';
import { resumePoint, type RunSnapshots } from '../src/core/run/run-record';
import { IdbSnapshotStore, StorageFullError } from './idb-store';
import { QuantizeError, type RunEvent } from '../src/core/types';
import { collectGroupOps, digestOf, emptyDigest, type DigestContext } from './digest';
import { createEngine, studioEngines, type PauseGate } from './engine';
import type { DataFile, DataInput, EngineInfo, RunDigest, RunMeta, RunOutcome, RunSettings, StartRequest, UiEvent } from './protocol';
import { browserInputs } from './setup';

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
  /** A completed step is stored (a resume continues from it; otherwise it starts over). */
  hasState?: boolean;
  digest?: RunDigest;
}

async function load(store: IdbSnapshotStore, req: StartRequest): Promise<Loaded> {
  if (req.resume) {
    const meta = await store.get<RunMeta>(req.runId, 'meta');
    const modelBytes = await store.getBytes(req.runId, 'model');
    if (!meta || !modelBytes) throw new QuantizeError(`run ${req.runId} is not in this browser's storage (deleted, or storage was cleared)`);
    const data = req.data ?? (await keptData(store, req.runId));
    if (!data) throw new DataNeededError(req.runId, meta.dataName);
    const hasState = (await store.get<unknown>(req.runId, 'state')) !== undefined;
    const digest = await store.get<RunDigest>(req.runId, 'digest');
    return { meta: { ...meta, settings: req.settings ?? meta.settings }, modelBytes, data, hasState, digest };
  }
  if (!req.configText || !req.model || !req.data) throw new Error('a new run needs a config, a model and data');
  const now = Date.now();
  const meta: RunMeta = {
    runId: req.runId,
    title: req.title ?? req.model.name,
    createdAt: now,
    updatedAt: now,
    status: 'running',
    algorithm: 'AccuracyAwareQuantization',
    modelName: req.model.name,
    modelBytes: req.model.bytes.byteLength,
    dataName: req.data.name,
    dataSize: 0,
    dataStored: false,
    configText: req.configText,
    settings: req.settings ?? DEFAULT_SETTINGS,
    fingerprints: { model: '', data: '', config: '' },
    counts: { inferences: 0, sessions: 0 },
    phase: 'baseline',
    iterations: 0,
  };
  return { meta, modelBytes: req.model.bytes, data: req.data };
}

/** A resume with no completed step starts over, but only on the same inputs. */
function checkSame(meta: RunMeta, fingerprints: RunMeta['fingerprints']): void {
  const what = { model: 'model', data: 'data files', config: 'configuration' } as const;
  for (const k of ['model', 'data', 'config'] as const) {
    if (meta.fingerprints[k] !== fingerprints[k]) {
      throw new QuantizeError(
        `the ${what[k]} differ from the interrupted run's (fingerprint ${fingerprints[k].slice(0, 12)}… ≠ ${meta.fingerprints[k].slice(0, 12)}…); refusing to resume`,
        {
          expected: `the same ${what[k]} as run ${meta.runId}`,
        },
      );
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
  const inputs = await browserInputs(meta.configText, meta.modelName, modelBytes, data);
  for (const w of inputs.warnings) emit({ type: 'warning', message: w });
  if (!req.resume) {
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
    meta.algorithm = inputs.algorithm.name;
    meta.dataSize = inputs.dataset.size;
    meta.fingerprints = inputs.fingerprints;
    await saveMeta({ dataStored, status: 'running' });
  }
  await saveMeta({ status: 'running', error: undefined });

  const settings = meta.settings;
  // Test hook: the WebGPU device is "lost" after the first snapshot (a page opened with ?test).
  let gpuLost = false;
  const lostError = () => {
    const e = new Error('GPUDevice was lost: simulated device loss (test hook)');
    e.name = 'OperationError';
    return e;
  };
  const onEngine = (info: EngineInfo) => {
    emit({ type: 'engine', info });
    if (info.fallback) emit({ type: 'warning', message: info.fallback });
  };
  const engines = studioEngines(settings.backend, settings.threads, gate, onEngine, () => (gpuLost ? lostError() : null));
  const run = await OpenedRun.open(inputs, {
    engines,
    settings: { batchSize: settings.batchSize, mode: settings.mode, memoryBytes: settings.memoryMiB === undefined ? undefined : settings.memoryMiB * 2 ** 20 },
  });
  try {
    const snapshots: RunSnapshots = {
      store,
      runId: meta.runId,
      recordKey: 'resume',
      names: { run: `run ${meta.runId} in this browser's storage`, key: (k) => `run ${meta.runId} ('${k}' in this browser's storage)`, expected: 'a run started in this studio' },
    };
    const aaq = inputs.algorithm.name === 'AccuracyAwareQuantization' ? inputs.algorithm.params : undefined;
    const resume = req.resume && aaq && loaded.hasState ? await resumePoint(snapshots, inputs.fingerprints, run.backend, aaq) : undefined;
    if (req.resume) {
      if (!resume) checkSame(meta, inputs.fingerprints);
      // A resume from a step is said by executeRun (the same line as the CLI's).
      else emit({ type: 'resumed', phase: resume.state.phase, elapsedMs: resume.clock?.elapsedMs ?? meta.elapsedMs ?? 0 });
      if (!resume) log('Restarting the run from the beginning (no step was completed)');
    }
    const groupOps = new Map<string, string[]>(Object.entries(loaded.digest?.groupOps ?? {}));
    const dctx = (int8: string[]): DigestContext => {
      const b = run.backend;
      const layers = b.placement.ops.map((name) => ({ name, op: b.idx.nodes[b.idx.nodeByName.get(name)!]?.opType ?? '?' }));
      return { params: inputs.params, layers, int8, groupOps };
    };
    const from = resume?.state;
    emit({ type: 'digest', digest: from ? digestOf(from, dctx(from.current ? run.backend.quantizedOps(from.current.state) : [])) : emptyDigest(dctx([])) });
    const outcome = await executeRun(run, {
      snapshots,
      resume,
      keepStored: true,
      modelPath: meta.modelName,
      // The exported model is measured on WASM (the final figures: what the downloaded file gives
      // in onnxruntime-web's WASM build) and, for a WebGPU run, on WebGPU too.
      deployEngines: async (engine) => {
        if (engine.backend === 'wasm') return { engines: [engine] };
        const wasm = (await createEngine('wasm', settings.threads)).engine;
        return { engines: [wasm, engine], dispose: () => wasm.dispose() };
      },
      ...(req.test?.breakExportScale ? { exportHook: (m: Parameters<typeof breakExportScale>[0]) => void breakExportScale(m, 4) } : {}),
      startedAt: t0,
      progress: progressEmitter(emit),
      log,
      warn: (message) => emit({ type: 'warning', message }),
      onCheckpoint: async (s, counts, clock) => {
        collectGroupOps(s, groupOps);
        const digest = digestOf(s, dctx(s.current ? run.backend.quantizedOps(s.current.state) : []));
        await store.put(meta.runId, 'digest', digest);
        await saveMeta({ phase: s.phase, iterations: s.history.length, counts, elapsedMs: clock.elapsedMs });
        emit({ type: 'digest', digest });
        if (req.test?.loseGpuAfterSnapshot) gpuLost = true;
      },
    });
    const { report, qdq } = outcome;
    if (!aaq) {
      const d = emptyDigest(dctx(run.backend.quantizedOps(outcome.state)));
      const m = { metrics: report.quantized.metrics, drop: report.drop };
      emit({ type: 'digest', digest: { ...d, phase: 'done', metrics: run.backend.metricDefs(), baseline: report.baseline.metrics, quantized: m, current: m } });
    }
    await store.put(meta.runId, 'report', report);
    await store.putBytes(meta.runId, 'qdq', qdq);
    const metric = Object.keys(report.final.metrics)[0];
    await saveMeta({
      status: 'done',
      phase: 'done',
      counts: report.counts,
      iterations: outcome.aaq?.history.length ?? 0,
      final: {
        metric,
        fp32: report.baseline.metrics[metric],
        int8: report.quantized.metrics[metric],
        final: report.final.metrics[metric],
        drop: report.drop[metric],
        reverted: report.reverted.length,
      },
    });
    return { report, qdq, meta: { ...meta } };
  } finally {
    await run.dispose();
  }
}

export async function fingerprintFor(data: DataInput, runId: string): Promise<{ fingerprint: string; expected: string; same: boolean }> {
  const store = new IdbSnapshotStore();
  const meta = await store.get<RunMeta>(runId, 'meta');
  const modelBytes = await store.getBytes(runId, 'model');
  if (!meta || !modelBytes) throw new QuantizeError(`run ${runId} is not in this browser's storage`);
  const inputs = await browserInputs(meta.configText, meta.modelName, modelBytes, data);
  return { fingerprint: inputs.fingerprints.data, expected: meta.fingerprints.data, same: inputs.fingerprints.data === meta.fingerprints.data };
}

export type { DataFile };
