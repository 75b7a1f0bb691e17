// The JSON report of a run and its short human summary. One builder (`buildRunReport`) serves
// both `aaq quantize` (src/cli/main.ts) and the studio's run worker (workers/run-session.ts), so
// the two reports have the same shape and can be compared directly; what only the caller knows
// (engine label, model path, prior counts of a resumed run, total time, warnings) is an input.
import type { AaqResult } from './algorithms/history';
import type { DefaultQuantizationResult } from './algorithms/default-quantization';
import type { QuantState } from './algorithms/backend';
import type { OnnxQuantizationBackend } from './evaluation/onnx-backend';
import type { AccuracyAwareParams, DefaultQuantizationParams, ParsedConfig } from './config/types';
import type { QuantizerSpec } from './types';
import type { ModeCalibration, ModeUse } from './evaluation/eval-mode';
import type { SavingsOptions } from './run/eval-options';
import { phaseLabel } from './run/phases';

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
  aaq?: Omit<AaqResult, 'state' | 'baseline' | 'final' | 'drop' | 'reverted' | 'groupsTotal' | 'options'> & {
    /** POT's fixes and the four savings as the run applied them (src/core/run/eval-options.ts). */
    options: AaqResult['options'] & Partial<Omit<SavingsOptions, 'notes'>>;
  };
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
    warnings: [...r.warnings, ...(r.savings?.notes ?? [])],
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

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function summaryText(r: RunReport): string {
  const lines: string[] = [];
  const m = Object.keys(r.final.metrics);
  lines.push(`${r.algorithm} on ${r.model.name} (${r.data.size} samples, ${r.engine.backend}, ${r.engine.mode})`);
  for (const k of m) {
    lines.push(`  ${k}: FP32 ${pct(r.baseline.metrics[k])}  default INT8 ${pct(r.quantized.metrics[k])}  final ${pct(r.final.metrics[k])}  drop ${pct(r.drop[k])}`);
  }
  if (r.aaq) {
    lines.push(
      `  status: ${r.aaq.status}; reverted ${r.reverted.length} of ${r.groups_total} groups (${r.layers.filter((l) => l.precision === 'FP32').length} of ${r.layers.length} layers FP32)`,
    );
    for (const msg of r.aaq.messages) lines.push(`  ${msg}`);
  }
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
  return lines.join('\n');
}
