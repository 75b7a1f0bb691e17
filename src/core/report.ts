// The JSON report of a run and its short human summary. One builder (`buildRunReport`) serves
// both `aaq quantize` (src/cli/main.ts) and the studio's run worker (workers/run-session.ts), so
// the two reports have the same shape and can be compared directly; what only the caller knows
// (engine label, model path, prior counts of a resumed run, total time, warnings) is an input.
import type { AaqResult, AaqStatus } from './algorithms/history';
import type { DefaultQuantizationResult } from './algorithms/default-quantization';
import type { QuantState } from './algorithms/backend';
import type { OnnxQuantizationBackend } from './evaluation/onnx-backend';
import type { AccuracyAwareParams, DefaultQuantizationParams, ParsedConfig } from './config/types';
import type { QuantizerSpec } from './types';
import type { ModeCalibration, ModeUse } from './evaluation/eval-mode';
import type { SavingsOptions } from './run/eval-options';
import { findingText, type SanityReport } from './run/sanity';
import { phaseLabel } from './run/phases';

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The tool's version, written into every report (and printed by `aaq --version`). */
export const AAQ_VERSION = '0.1.0';

export interface RunReport {
  tool: 'aaq-studio';
  version: string;
  algorithm: 'DefaultQuantization' | 'AccuracyAwareQuantization';
  model: { name: string; path: string; fingerprint: string; bytes: number; quantized_bytes?: number };
  data: { fingerprint: string; size: number };
  engine: { backend: string; label: string; mode: string; calibration?: ModeCalibration; modeUse?: ModeUse };
  params: DefaultQuantizationParams | AccuracyAwareParams;
  seed: number;
  baseline: { metrics: Record<string, number> };
  quantized: { metrics: Record<string, number> };
  final: { metrics: Record<string, number> };
  drop: Record<string, number>;
  label_free: boolean;
  groups_total: number;
  reverted: { group: string; ops: string[] }[];
  layers: { name: string; precision: 'INT8' | 'FP32'; reverted_at?: number }[];
  quantizers: { total: number; enabled: number };
  aaq?: Omit<AaqResult, 'state' | 'baseline' | 'final' | 'drop' | 'reverted' | 'groupsTotal' | 'options' | 'status'> & {
    /** POT's fixes and the four savings as the run applied them (src/core/run/eval-options.ts). */
    options: AaqResult['options'] & Partial<Omit<SavingsOptions, 'notes'>>;
    /** The search's status, except 'not-met-exported': the simulation met the target but the
     *  exported model, as onnxruntime runs it, does not (src/core/run/deployment.ts). */
    status: RunStatus;
  };
  /** The fake-quant simulation's figures the search decided on (`final` and `drop` are the
   *  exported model's, as onnxruntime runs it; see `exported`). Absent in reports of runs that
   *  did not measure the exported model. */
  simulated?: { final: Record<string, number>; drop: Record<string, number>; status?: AaqStatus };
  /** The exported QDQ model evaluated as onnxruntime deploys it, per engine: the first gives `final`. */
  exported?: ExportedMeasurement[];
  /** FP32 vs INT8 latency per engine (wall-clock: differs from run to run). */
  latency?: LatencyMeasurement[];
  counts: { inferences: number; sessions: number };
  /** Time per phase and `total`, ms, over the whole run (every part of a resumed run together). */
  timings: Record<string, number>;
  /** The run was interrupted and resumed (the CLI's --resume, the studio's Resume). */
  resumed: boolean;
  /** The last interruption of a resumed run: when, where the run went on, and its time before and after. */
  interruption?: {
    /** When the run first started (ISO 8601). */
    started_at: string;
    /** When the last step before the interruption was saved (absent for older snapshots). */
    last_checkpoint_at?: string;
    /** When the resumed part started. */
    resumed_at: string;
    /** The AccuracyAwareQuantization phase the run resumed at, and the iterations done by then. */
    phase: string;
    iterations: number;
    /** Run time up to the last saved step before the interruption, and of the resumed part, ms
     *  (their sum is timings.total; work lost with the interruption is in neither). */
    before_ms?: number;
    resumed_ms: number;
    /** How many times the run has been resumed. */
    resumes: number;
  };
  warnings: string[];
  /** The run's sanity checks (src/core/run/sanity.ts); absent in reports from before them. With
   *  `reliable: false` a "met" is not to be trusted (outcomeText and the studio say so). */
  sanity?: SanityReport;
}

/** AAQ's status, or 'not-met-exported' (the simulation met the target, the exported model does not). */
export type RunStatus = AaqStatus | 'not-met-exported';

/** The exported QDQ model evaluated on every validation sample in a session with the engine's
 *  default options (onnxruntime's graph optimizations, hence its integer kernels). */
export interface ExportedMeasurement {
  backend: string;
  /** The engine's short name (messages name it: the same for the studio's and the CLI's WASM). */
  name: string;
  label: string;
  session_options: 'default';
  samples: number;
  metrics: Record<string, number>;
  drop: Record<string, number>;
  /** What the simulation gave for the same state. */
  simulated: Record<string, number>;
  /** Share of `agreement_samples` (the first ones) whose top-1 class is the simulation's. */
  agreement_top1: number;
  agreement_samples: number;
  eval_ms: number;
}

export interface LatencyRow {
  batch: number;
  fp32_ms: number;
  int8_ms: number;
  /** int8_ms ÷ fp32_ms (< 1: INT8 is faster). */
  ratio: number;
}

/** FP32 vs INT8 latency on one engine, default session options, one session alive at a time. */
export interface LatencyMeasurement {
  backend: string;
  label: string;
  warmup: number;
  runs: string;
  rows: LatencyRow[];
  /** Set when INT8 is slower than FP32 at some batch size (names the back end). */
  warning?: string;
}

/** What src/core/run/deployment.ts measured, applied to a report. */
export interface DeploymentFigures {
  exported: ExportedMeasurement[];
  latency: LatencyMeasurement[];
  /** The exported model's drops are within maximal_drop (AAQ only). */
  met?: boolean;
  warnings: string[];
  ms: number;
}

/** The report with the exported model's figures as its final ones, the simulated ones beside them,
 *  and the status 'not-met-exported' when the simulation met the target but the exported model misses it. */
export function withDeployment(r: RunReport, d: DeploymentFigures, maxDropText?: (metric: string) => string): RunReport {
  const first = d.exported[0];
  const out: RunReport = {
    ...r,
    final: { metrics: { ...first.metrics } },
    drop: { ...first.drop },
    simulated: { final: { ...r.final.metrics }, drop: { ...r.drop }, ...(r.aaq ? { status: r.aaq.status as AaqStatus } : {}) },
    exported: d.exported,
    latency: d.latency,
    warnings: [...r.warnings, ...d.warnings],
    timings: { ...r.timings, deployment_check: d.ms },
  };
  if (r.aaq && d.met === false && r.aaq.status === 'met') {
    const over = Object.keys(first.drop)
      .map((m) => `${m} drop ${pct(first.drop[m])}${maxDropText ? ` > ${maxDropText(m)}` : ''} (simulated ${pct(r.drop[m])})`)
      .join(', ');
    const msg = `Target not met by the exported model: as ${first.name} runs it (default options), ${over}. The simulation the search decided on met it; the exported model is what you deploy.`;
    out.aaq = { ...r.aaq, status: 'not-met-exported', messages: [...r.aaq.messages, msg] };
  }
  return out;
}

export function layerTable(ops: string[], quantizedOps: Set<string>, revertedAt: Map<string, number>): RunReport['layers'] {
  return ops.map((name) => {
    const r: RunReport['layers'][number] = { name, precision: quantizedOps.has(name) ? 'INT8' : 'FP32' };
    if (revertedAt.has(name)) r.reverted_at = revertedAt.get(name);
    return r;
  });
}

export function revertedAtFromHistory(res: AaqResult | DefaultQuantizationResult): Map<string, number> {
  const m = new Map<string, number>();
  if ('history' in res) for (const h of res.history) if (h.accepted) for (const op of h.ops) if (!m.has(op)) m.set(op, h.iteration);
  return m;
}

export function quantizerCounts(specs: QuantizerSpec[], state: QuantState): RunReport['quantizers'] {
  return { total: specs.length, enabled: state.enabled.length };
}

/** What the report needs of a prepared run (the CLI's RunSetup and the worker's BrowserSetup both fit). */
export interface ReportSetup {
  parsed: Pick<ParsedConfig, 'config'>;
  algorithm: ParsedConfig['config']['compression']['algorithms'][number];
  dataset: { size: number };
  fingerprints: { model: string; data: string };
}

/** What the report reads of the back end the run used. */
export type ReportBackend = Pick<OnnxQuantizationBackend, 'mode' | 'calibration' | 'modeUse' | 'placement' | 'timings' | 'counts' | 'quantizedOps' | 'groups' | 'quantizerSpecs'>;

export interface RunReportInput {
  setup: ReportSetup;
  backend: ReportBackend;
  /** The engine that ran: its back-end name and a human label. */
  engine: { backend: string; label: string };
  /** Where the model came from (file path or picked file name), and the name used when the config has no model_name. */
  model: { path: string; name: string; bytes: number; quantizedBytes: number };
  /** The final quantization state and the run's metrics. */
  state: QuantState;
  baseline: Record<string, number>;
  quantized: Record<string, number>;
  final: Record<string, number>;
  drop: Record<string, number>;
  labelFree: boolean;
  /** The AccuracyAwareQuantization result; absent for DefaultQuantization. */
  aaq?: AaqResult;
  /** The AAQ savings as decided for the run's engine (src/core/run/eval-options.ts). */
  savings?: SavingsOptions;
  /** Inferences and sessions of the earlier part of a resumed run (added to the back end's counts). */
  priorCounts?: { inferences: number; sessions: number };
  /** Wall time of the whole run, ms (the report's `timings.total`). */
  totalMs: number;
  /** The run's sanity checks; their findings are added to the warnings. */
  sanity?: SanityReport;
  /** Time per phase over the whole run (a resumed run's earlier parts included); default: the back end's. */
  timings?: Record<string, number>;
  /** Present when the run was resumed (times in ms; dates in ms since the epoch). */
  resume?: {
    startedAt: number;
    interruptedAt?: number;
    resumedAt: number;
    phase: string;
    iterations: number;
    beforeMs?: number;
    resumedMs: number;
    resumes: number;
  };
  warnings: string[];
}

/** The run report, the same for the CLI and the studio. */
export function buildRunReport(r: RunReportInput): RunReport {
  const { setup, backend, aaq } = r;
  const { algorithm } = setup;
  const prior = r.priorCounts ?? { inferences: 0, sessions: 0 };
  const c = backend.counts();
  const quantizedOps = new Set(backend.quantizedOps(r.state));
  const report: RunReport = {
    tool: 'aaq-studio',
    version: AAQ_VERSION,
    algorithm: algorithm.name,
    model: {
      name: setup.parsed.config.model.model_name || r.model.name,
      path: r.model.path,
      fingerprint: setup.fingerprints.model,
      bytes: r.model.bytes,
      quantized_bytes: r.model.quantizedBytes,
    },
    data: { fingerprint: setup.fingerprints.data, size: setup.dataset.size },
    engine: {
      backend: r.engine.backend,
      label: r.engine.label,
      mode: backend.mode,
      ...(backend.calibration ? { calibration: backend.calibration } : {}),
      modeUse: backend.modeUse,
    },
    params: algorithm.params,
    seed: algorithm.params.seed,
    baseline: { metrics: r.baseline },
    quantized: { metrics: r.quantized },
    final: { metrics: r.final },
    drop: r.drop,
    label_free: r.labelFree,
    groups_total: aaq ? aaq.groupsTotal : backend.groups(r.state).length,
    reverted: aaq ? aaq.reverted.map((x) => ({ group: x.group, ops: x.ops })) : [],
    layers: layerTable(backend.placement.ops, quantizedOps, aaq ? revertedAtFromHistory(aaq) : new Map()),
    quantizers: quantizerCounts(backend.quantizerSpecs(), r.state),
    counts: { inferences: prior.inferences + c.inferences, sessions: prior.sessions + c.sessions },
    timings: { ...(r.timings ?? backend.timings), total: r.totalMs },
    resumed: !!r.resume,
    ...(r.resume ? { interruption: interruption(r.resume) } : {}),
    warnings: [...r.warnings, ...(r.savings?.notes ?? []), ...(r.sanity?.findings.map(findingText).filter((t) => !r.warnings.includes(t)) ?? [])],
    sanity: r.sanity ?? { reliable: true, findings: [] },
  };
  if (aaq) {
    const { state: _s, baseline: _b, final: _f, drop: _d, reverted: _r, groupsTotal: _g, ...rest } = aaq;
    const { notes: _n, ...savings } = r.savings ?? { notes: [] };
    report.aaq = { ...rest, options: { ...rest.options, ...savings } };
  }
  return report;
}

function interruption(r: NonNullable<RunReportInput['resume']>): NonNullable<RunReport['interruption']> {
  const iso = (t: number) => new Date(t).toISOString();
  return {
    started_at: iso(r.startedAt),
    ...(r.interruptedAt !== undefined ? { last_checkpoint_at: iso(r.interruptedAt) } : {}),
    resumed_at: iso(r.resumedAt),
    phase: r.phase,
    iterations: r.iterations,
    ...(r.beforeMs !== undefined ? { before_ms: r.beforeMs } : {}),
    resumed_ms: r.resumedMs,
    resumes: r.resumes,
  };
}

/** The run's outcome in words: the AAQ status (or 'done' for DefaultQuantization), marked
 *  'unreliable' when a sanity check found the metrics meaningless, or 'with a warning'. */
export function outcomeText(r: RunReport): string {
  const status = r.aaq?.status ?? 'done';
  const findings = r.sanity?.findings ?? [];
  const bad = findings.find((f) => f.unreliable);
  if (bad) return `${status} — unreliable: ${bad.message}`;
  if (findings.length) return `${status} — with a warning: ${findings[0].message}`;
  return status;
}

export function summaryText(r: RunReport): string {
  const lines: string[] = [];
  // Drops as the studio writes them: percentage points (absolute), percent (relative).
  const relative = (r.params as { drop_type?: string }).drop_type === 'relative';
  const drop = (x: number) => (relative ? pct(x) : `${(x * 100).toFixed(2)} pp`);
  const m = Object.keys(r.final.metrics);
  lines.push(`${r.algorithm} on ${r.model.name} (${r.data.size} samples, ${r.engine.backend}, ${r.engine.mode})`);
  const ex = r.exported?.[0];
  for (const k of m) {
    const sim = r.simulated ? `  (simulated: final ${pct(r.simulated.final[k])}, drop ${drop(r.simulated.drop[k])})` : '';
    lines.push(`  ${k}: FP32 ${pct(r.baseline.metrics[k])}  default INT8 ${pct(r.quantized.metrics[k])}  final ${pct(r.final.metrics[k])}  drop ${drop(r.drop[k])}${sim}`);
  }
  if (ex) lines.push(`  final = the exported model as ${ex.label} runs it (default options, ${ex.samples} samples); top-1 agreement with the simulation ${pct(ex.agreement_top1)}`);
  for (const e of r.exported?.slice(1) ?? []) {
    lines.push(
      `  also on ${e.label}: ${Object.keys(e.metrics)
        .map((k) => `${k} ${pct(e.metrics[k])}`)
        .join(', ')}; agreement ${pct(e.agreement_top1)}`,
    );
  }
  if (r.aaq) {
    lines.push(
      `  status: ${outcomeText(r)}; reverted ${r.reverted.length} of ${r.groups_total} groups (${r.layers.filter((l) => l.precision === 'FP32').length} of ${r.layers.length} layers FP32)`,
    );
    for (const msg of r.aaq.messages) lines.push(`  ${msg}`);
  }
  if (!r.aaq && r.sanity?.findings.length) lines.push(`  status: ${outcomeText(r)}`);
  for (const f of r.sanity?.findings ?? []) lines.push(`  warning: ${findingText(f)}`);
  if (r.label_free) lines.push('  metrics are agreement with the FP32 model (label-free), not accuracy');
  const i = r.interruption;
  if (i) {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const parts = i.before_ms !== undefined ? ` (${s(i.before_ms)} before the interruption, ${s(i.resumed_ms)} after)` : ` (${s(i.resumed_ms)} after the interruption)`;
    lines.push(`  resumed at ${phaseLabel(i.phase)} after ${i.iterations} iteration${i.iterations === 1 ? '' : 's'}; run time ${s(r.timings.total)}${parts}`);
  }
  lines.push(
    `  model ${(r.model.bytes / 1024).toFixed(0)} KiB → ${r.model.quantized_bytes ? (r.model.quantized_bytes / 1024).toFixed(0) + ' KiB' : '—'}; ${r.counts.inferences} sample inferences, ${r.counts.sessions} sessions`,
  );
  for (const l of r.latency ?? []) {
    lines.push(
      `  latency on ${l.label}: ${l.rows.map((x) => `batch ${x.batch} FP32 ${x.fp32_ms.toFixed(2)} ms → INT8 ${x.int8_ms.toFixed(2)} ms (×${x.ratio.toFixed(2)})`).join('; ')}`,
    );
    if (l.warning) lines.push(`  warning: ${l.warning}`);
  }
  for (const w of r.warnings.filter((w) => w.startsWith('The exported model'))) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
