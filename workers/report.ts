// The JSON report of a browser run: the same RunReport the CLI writes (src/cli/main.ts builds it
// the same way, field by field), so the two can be compared directly.

import type { AaqResult } from '../src/core/algorithms/history';
import type { QuantState } from '../src/core/algorithms/backend';
import type { OnnxQuantizationBackend } from '../src/core/algorithms/onnx-backend';
import { layerTable, quantizerCounts, revertedAtFromHistory, type RunReport } from '../src/core/report';
import type { BrowserSetup } from './setup';

export const STUDIO_VERSION = '0.1.0';

export interface ReportInput {
  setup: BrowserSetup;
  backend: OnnxQuantizationBackend;
  engine: { backend: string; label: string };
  modelName: string;
  modelBytes: number;
  qdqBytes: number;
  state: QuantState;
  baseline: Record<string, number>;
  quantized: Record<string, number>;
  final: Record<string, number>;
  drop: Record<string, number>;
  labelFree: boolean;
  aaq?: AaqResult;
  priorCounts: { inferences: number; sessions: number };
  totalMs: number;
  warnings: string[];
}

export function buildReport(r: ReportInput): RunReport {
  const { setup, backend, aaq } = r;
  const c = backend.counts();
  const quantizedOps = new Set(backend.quantizedOps(r.state));
  const report: RunReport = {
    tool: 'aaq-studio',
    version: STUDIO_VERSION,
    algorithm: setup.algorithm.name,
    model: {
      name: setup.parsed.config.model.model_name || r.modelName,
      path: r.modelName,
      fingerprint: setup.fingerprints.model,
      bytes: r.modelBytes,
      quantized_bytes: r.qdqBytes,
    },
    data: { fingerprint: setup.fingerprints.data, size: setup.dataset.size },
    engine: { backend: r.engine.backend, label: r.engine.label, mode: backend.mode, ...(backend.calibration ? { calibration: backend.calibration } : {}), modeUse: backend.modeUse },
    params: setup.params,
    seed: setup.params.seed,
    baseline: { metrics: r.baseline },
    quantized: { metrics: r.quantized },
    final: { metrics: r.final },
    drop: r.drop,
    label_free: r.labelFree,
    groups_total: aaq ? aaq.groupsTotal : backend.groups(r.state).length,
    reverted: aaq ? aaq.reverted.map((x) => ({ group: x.group, ops: x.ops })) : [],
    layers: layerTable(backend.placement.ops, quantizedOps, aaq ? revertedAtFromHistory(aaq) : new Map()),
    quantizers: quantizerCounts(backend.quantizerSpecs(), r.state),
    counts: { inferences: r.priorCounts.inferences + c.inferences, sessions: r.priorCounts.sessions + c.sessions },
    timings: { ...backend.timings, total: r.totalMs },
    warnings: r.warnings,
  };
  if (aaq) {
    const { state: _s, baseline: _b, final: _f, drop: _d, reverted: _r, groupsTotal: _g, ...rest } = aaq;
    report.aaq = rest;
  }
  return report;
}
