// The JSON report of a run and its short human summary.
import type { AaqResult } from './algorithms/history';
import type { DefaultQuantizationResult } from './algorithms/default-quantization';
import type { QuantState } from './algorithms/backend';
import type { AccuracyAwareParams, DefaultQuantizationParams } from './config/types';
import type { QuantizerSpec } from './types';
import type { ModeCalibration, ModeUse } from './algorithms/eval-mode';

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
  aaq?: Omit<AaqResult, 'state' | 'baseline' | 'final' | 'drop' | 'reverted' | 'groupsTotal'>;
  counts: { inferences: number; sessions: number };
  timings: Record<string, number>;
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

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function summaryText(r: RunReport): string {
  const lines: string[] = [];
  const m = Object.keys(r.final.metrics);
  lines.push(`${r.algorithm} on ${r.model.name} (${r.data.size} samples, ${r.engine.backend}, ${r.engine.mode})`);
  for (const k of m) {
    lines.push(`  ${k}: FP32 ${pct(r.baseline.metrics[k])}  default INT8 ${pct(r.quantized.metrics[k])}  final ${pct(r.final.metrics[k])}  drop ${pct(r.drop[k])}`);
  }
  if (r.aaq) {
    lines.push(`  status: ${r.aaq.status}; reverted ${r.reverted.length} of ${r.groups_total} groups (${r.layers.filter((l) => l.precision === 'FP32').length} of ${r.layers.length} layers FP32)`);
    for (const msg of r.aaq.messages) lines.push(`  ${msg}`);
  }
  if (r.label_free) lines.push('  metrics are agreement with the FP32 model (label-free), not accuracy');
  lines.push(`  model ${(r.model.bytes / 1024).toFixed(0)} KiB → ${r.model.quantized_bytes ? (r.model.quantized_bytes / 1024).toFixed(0) + ' KiB' : '—'}; ${r.counts.inferences} sample inferences, ${r.counts.sessions} sessions`);
  return lines.join('\n');
}
