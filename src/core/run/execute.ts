// Executing a prepared run, the same for the CLI and the studio: the configured algorithm
// (DefaultQuantization, or AccuracyAwareQuantization with a checkpoint after every step, resumable),
// the QDQ export and the report. The shells only supply the files and show the result.
import { runAccuracyAware } from '../algorithms/accuracy-aware';
import type { QuantState } from '../algorithms/backend';
import { runDefaultQuantization } from '../algorithms/default-quantization';
import type { AaqResult, AaqRunState } from '../algorithms/history';
import { encodeModel } from '../onnx/proto';
import { buildRunReport, type RunReport } from '../report';
import { QuantizeError, type ProgressFn } from '../types';
import type { OpenedRun } from './open-run';
import { phaseLabel } from './phases';
import { checkpoint, startRecord, type Counts, type ResumePoint, type RunClock, type RunRecord, type RunSnapshots } from './run-record';

export interface ExecuteOptions {
  /** Where an AAQ run checkpoints (required for AAQ). */
  snapshots?: RunSnapshots;
  /** Continue from this point (resumePoint()); a fresh run otherwise (its snapshots are cleared). */
  resume?: ResumePoint;
  /** Keep what is already stored under the run id when starting fresh (the studio stores the run's
   *  inputs there first). */
  keepStored?: boolean;
  progress?: ProgressFn;
  log?(message: string): void;
  /** After each completed AAQ step has been stored, with the run's counts and time so far. */
  onCheckpoint?(state: AaqRunState, counts: Counts, clock: RunClock): Promise<void> | void;
  /** The model's path or name in the report. */
  modelPath: string;
  /** When the run started (performance.now()), for the report's total time. */
  startedAt: number;
}

export interface RunOutcome {
  report: RunReport;
  /** The exported QDQ model. */
  qdq: Uint8Array;
  state: QuantState;
  aaq?: AaqResult;
}

interface Metrics {
  baseline: Record<string, number>;
  quantized: Record<string, number>;
  final: Record<string, number>;
  drop: Record<string, number>;
  labelFree: boolean;
}

export async function executeRun(run: OpenedRun, o: ExecuteOptions): Promise<RunOutcome> {
  const { inputs } = run;
  const log = o.log ?? (() => undefined);
  let prior: Counts = o.resume?.counts ?? { inferences: 0, sessions: 0 };
  const counts = (): Counts => {
    const c = run.backend.counts();
    return { inferences: prior.inferences + c.inferences, sessions: prior.sessions + c.sessions };
  };
  // The time of the parts before a resume (and of a back end replaced by its fallback) is added,
  // so the clock, like the counts, covers the whole run.
  const before = o.resume?.clock;
  const partStartedAt = Date.now() - (performance.now() - o.startedAt);
  let priorTimings: Record<string, number> = { ...before?.timings };
  const timings = () => addTimings(priorTimings, run.backend.timings);
  const clock = (): RunClock => ({
    startedAt: before?.startedAt ?? partStartedAt,
    elapsedMs: (before?.elapsedMs ?? 0) + performance.now() - o.startedAt,
    at: Date.now(),
    timings: timings(),
    resumes: (before?.resumes ?? 0) + (o.resume ? 1 : 0),
  });
  let state: QuantState;
  let m: Metrics;
  let aaq: AaqResult | undefined;
  if (inputs.algorithm.name === 'DefaultQuantization') {
    if (o.resume) {
      throw new QuantizeError('a resume continues an AccuracyAwareQuantization run, but this config runs DefaultQuantization', {
        file: inputs.configName,
        field: 'compression.algorithms[0].name',
        expected: 'the config of the interrupted AAQ run',
      });
    }
    const r = await runDefaultQuantization(run.backend, inputs.algorithm.params, { progress: o.progress, log });
    state = r.state;
    m = { baseline: r.baseline, quantized: r.quantized, final: r.quantized, drop: r.drop, labelFree: r.labelFree };
  } else {
    const snap = o.snapshots;
    if (!snap) throw new Error('an AccuracyAwareQuantization run needs a snapshot store');
    const params = inputs.algorithm.params;
    let record: RunRecord = o.resume?.record ?? (await startRecord(snap, inputs.fingerprints, !o.keepStored));
    let resumeFrom = o.resume?.state;
    if (resumeFrom) log(`Resuming at ${phaseLabel(resumeFrom.phase)} (${resumeFrom.history.length} iteration${resumeFrom.history.length === 1 ? '' : 's'} done)`);
    for (;;) {
      let storing = false;
      try {
        aaq = await runAccuracyAware(run.backend, params, {
          resumeFrom,
          progress: o.progress,
          log,
          checkpoint: async (s) => {
            storing = true;
            const c = counts();
            const k = clock();
            record = await checkpoint(snap, record, s, c, k);
            await o.onCheckpoint?.(s, c, k);
            storing = false;
          },
        });
        break;
      } catch (e) {
        // The engine failed mid-run (a GPU device lost, a kernel error): go on from the last
        // completed step on its fallback, and say so. A failure to store is the run's.
        if (storing || !run.canFallBack(e)) throw e;
        const why = `failed during the run (${e instanceof Error ? e.message : String(e)})`;
        const failed = run.engine.name;
        prior = counts();
        priorTimings = timings();
        await run.fallBack(why);
        resumeFrom = await snap.store.get<AaqRunState>(snap.runId, 'state');
        log(`${failed} ${why}; resuming from the last completed step on ${run.engine.name}`);
      }
    }
    state = aaq.state;
    m = { baseline: aaq.baseline, quantized: aaq.quantized, final: aaq.final, drop: aaq.drop, labelFree: aaq.labelFree };
  }

  o.progress?.({ stage: 'export', done: 0, total: 1, message: 'writing the QDQ model' });
  const tExport = performance.now();
  const qdq = encodeModel(run.backend.exportModel(state));
  run.backend.timings.export = performance.now() - tExport;
  o.progress?.({ stage: 'export', done: 1, total: 1 });
  const end = clock();
  const report = buildRunReport({
    setup: inputs,
    backend: run.backend,
    engine: { backend: run.engine.backend, label: run.engine.label },
    model: { path: o.modelPath, name: basename(o.modelPath), bytes: inputs.modelBytes.byteLength, quantizedBytes: qdq.byteLength },
    state,
    ...m,
    aaq,
    priorCounts: prior,
    savings: run.savings,
    totalMs: end.elapsedMs,
    timings: end.timings,
    ...(o.resume
      ? {
          resume: {
            startedAt: end.startedAt,
            interruptedAt: before?.at,
            resumedAt: partStartedAt,
            phase: o.resume.state.phase,
            iterations: o.resume.state.history.length,
            beforeMs: before?.elapsedMs,
            resumedMs: end.elapsedMs - (before?.elapsedMs ?? 0),
            resumes: end.resumes,
          },
        }
      : {}),
    warnings: inputs.warnings,
  });
  return { report, qdq, state, aaq };
}

function addTimings(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function basename(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}
