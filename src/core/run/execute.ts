// Executing a prepared run, the same for the CLI and the studio: the configured algorithm
// (DefaultQuantization, or AccuracyAwareQuantization with a checkpoint after every step, resumable),
// the QDQ export and the report. The shells only supply the files and show the result.
import { runAccuracyAware } from '../algorithms/accuracy-aware';
import type { QuantState } from '../algorithms/backend';
import { runDefaultQuantization } from '../algorithms/default-quantization';
import type { AaqResult, AaqRunState } from '../algorithms/history';
import type { MetricSpec } from '../algorithms/drop';
import { encodeModel, type ModelProto } from '../onnx/proto';
import { buildRunReport, withDeployment, type RunReport } from '../report';
import { QuantizeError, type Engine, type ProgressFn } from '../types';
import { checkDeployment } from './deployment';
import type { OpenedRun } from './open-run';
import { findingText, resultSanity, type SanityReport } from './sanity';
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
  /** Told each sanity finding made at the end of the run (sanity.ts), as one warning line. */
  warn?(message: string): void;
  /** After each completed AAQ step has been stored, with the run's counts and time so far. */
  onCheckpoint?(state: AaqRunState, counts: Counts, clock: RunClock): Promise<void> | void;
  /** The model's path or name in the report. */
  modelPath: string;
  /** When the run started (performance.now()), for the report's total time. */
  startedAt: number;
  /** The engines the exported model is measured on after the export (src/core/run/deployment.ts):
   *  the first gives the report's final figures. Default: the run's engine. `dispose` releases
   *  those the caller created for it. */
  deployEngines?(runEngine: Engine): Promise<{ engines: Engine[]; dispose?(): Promise<void> }>;
  /** Test hook: alters the exported model before it is encoded (a deliberately broken export). */
  exportHook?(model: ModelProto): void;
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
  specs: MetricSpec[];
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
    m = { baseline: r.baseline, quantized: r.quantized, final: r.quantized, drop: r.drop, labelFree: r.labelFree, specs: r.metrics };
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
    m = { baseline: aaq.baseline, quantized: aaq.quantized, final: aaq.final, drop: aaq.drop, labelFree: aaq.labelFree, specs: aaq.metrics };
  }

  o.progress?.({ stage: 'export', done: 0, total: 1, message: 'writing the QDQ model' });
  const tExport = performance.now();
  const exported = run.backend.exportModel(state);
  o.exportHook?.(exported);
  const qdq = encodeModel(exported);
  run.backend.timings.export = performance.now() - tExport;
  o.progress?.({ stage: 'export', done: 1, total: 1 });
  const end = clock();
  const sanity = runSanity(run, m.baseline, aaq?.thresholds);
  for (const f of sanity.findings.slice(inputs.sanity.length)) o.warn?.(findingText(f));
  const simulatedReport = buildRunReport({
    setup: inputs,
    sanity,
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
  const report = await measureDeployed(run, o, simulatedReport, { state, qdq, m, aaq, log });
  return { report, qdq, state, aaq };
}

/** The report with the exported model's figures (deployment.ts) as its final ones; when it cannot be
 *  measured, the simulated report with a warning saying so. */
async function measureDeployed(
  run: OpenedRun,
  o: ExecuteOptions,
  report: RunReport,
  x: { state: QuantState; qdq: Uint8Array; m: Metrics; aaq?: AaqResult; log: (m: string) => void },
): Promise<RunReport> {
  const deploy = o.deployEngines ? await o.deployEngines(run.engine) : { engines: [run.engine] };
  try {
    const d = await checkDeployment({
      backend: run.backend,
      state: x.state,
      simulated: x.m.final,
      baseline: x.m.baseline,
      specs: x.m.specs,
      thresholds: x.aaq?.thresholds,
      qdq: x.qdq,
      fp32: run.inputs.modelBytes,
      engines: deploy.engines,
      batchSize: run.evaluation.batchSize,
      progress: o.progress,
      log: x.log,
    });
    o.progress?.({ stage: 'export', done: 1, total: 1 });
    const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
    return withDeployment(report, d, (k) => pct(x.aaq!.thresholds[k]));
  } catch (e) {
    const why = `The exported model could not be measured on ${deploy.engines.map((g) => g.label).join(', ')} (${e instanceof Error ? e.message : String(e)}): the final figures are the simulation's.`;
    x.log(why);
    return { ...report, warnings: [...report.warnings, why] };
  } finally {
    await deploy.dispose?.();
  }
}

function addTimings(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The sanity checks of a finished run (sanity.ts) on what the run measured. */
export function runSanity(run: OpenedRun, baseline: Record<string, number>, thresholds?: Record<string, number>): SanityReport {
  const { inputs } = run;
  const params = inputs.algorithm.name === 'AccuracyAwareQuantization' ? inputs.algorithm.params : undefined;
  return resultSanity({
    dataset: inputs.dataset,
    datasetConfig: inputs.datasetConfig,
    declaredShape: inputs.declaredShape,
    classes: run.classes,
    baseline,
    givenBaselines: (params?.metrics ?? []).filter((x) => x.baseline_value !== undefined).map((x) => x.type ?? x.name),
    fp32Top1: run.backend.fp32Top1,
    thresholds,
    before: inputs.sanity,
  });
}

function basename(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}
