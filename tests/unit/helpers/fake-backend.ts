// A scripted QuantizationBackend for the AAQ unit tests. The "model" has K revert groups; group g
// owns quantizers `a:tGG` (activation, the seed id) and `w:tGG` (weight) and the op `opGG`. Each
// metric has FP32 per-sample values and, per group, a known per-sample damage: while any quantizer
// of group g is on, sample n loses `factor × damage[g][n]` (a higher-better metric goes down, a
// lower-better metric goes up). `factor` is a function of the quantization params, so presets and
// tuning guesses change the damage in a known way. Everything is linear, so every metric value
// the loop sees can be computed by hand; use power-of-two sizes to keep means exact.

import type { DefaultQuantizationParams } from '../../../src/core/config/types';
import type { MetricDef, MetricName, RevertGroup } from '../../../src/core/types';
import type { EvalResult, QuantState, QuantizationBackend } from '../../../src/core/algorithms/backend';

export interface FakeMetric {
  name: string;
  direction?: 'higher-better' | 'lower-better';
  fp32: number[];
  /** damage[g][n]; missing rows/entries are 0. */
  damage: Record<number, Record<number, number>>;
  /** Damage of the orphan quantizer (on while enabled; it belongs to no group). */
  orphanDamage?: Record<number, number>;
}

export interface FakeSpec {
  n: number;
  groups: number;
  metrics: FakeMetric[];
  /** Damage multiplier for a state quantized with these params (default 1). */
  factor?: (p: DefaultQuantizationParams) => number;
  /** Add a quantizer `a:orphan` that no group can revert. */
  orphan?: boolean;
}

export type FakeCall =
  | { kind: 'evaluate'; fp32: boolean; indices: number[] | null; enabled: string[] | null; params: DefaultQuantizationParams | null }
  | { kind: 'quantize'; params: DefaultQuantizationParams };

const pad = (g: number) => String(g).padStart(2, '0');
export const gid = (g: number) => `a:t${pad(g)}`;
export const gop = (g: number) => `op${pad(g)}`;

export class FakeBackend implements QuantizationBackend {
  readonly datasetSize: number;
  readonly calls: FakeCall[] = [];
  private inferences = 0;
  constructor(readonly spec: FakeSpec) {
    this.datasetSize = spec.n;
  }

  metricDefs(): MetricDef[] {
    return this.spec.metrics.map((m) => ({
      name: m.name as MetricName,
      direction: m.direction ?? 'higher-better',
      needsLabels: m.name !== 'agreement@top1',
    }));
  }

  private allQuantizers(): string[] {
    const q: string[] = [];
    for (let g = 0; g < this.spec.groups; g++) q.push(`a:t${pad(g)}`, `w:t${pad(g)}`);
    if (this.spec.orphan) q.push('a:orphan');
    return q;
  }

  async quantize(params: DefaultQuantizationParams): Promise<QuantState> {
    this.calls.push({ kind: 'quantize', params: JSON.parse(JSON.stringify(params)) });
    const quantizers: QuantState['quantizers'] = {};
    for (const id of this.allQuantizers()) {
      quantizers[id] = { scale: [0.5], zeroPoint: [0], qmin: -128, qmax: 127, dtype: 'int8', low: [-64], high: [63.5] };
    }
    return { params: JSON.parse(JSON.stringify(params)), enabled: this.allQuantizers(), quantizers, biases: {} };
  }

  /** Per-sample value of metric `m` at sample `n` for a state (null = FP32). */
  value(m: FakeMetric, n: number, state: QuantState | null): number {
    if (!state) return m.fp32[n];
    const f = this.spec.factor ? this.spec.factor(state.params) : 1;
    const on = new Set(state.enabled);
    let dmg = 0;
    for (let g = 0; g < this.spec.groups; g++) {
      if (on.has(`a:t${pad(g)}`) || on.has(`w:t${pad(g)}`)) dmg += m.damage[g]?.[n] ?? 0;
    }
    if (on.has('a:orphan')) dmg += m.orphanDamage?.[n] ?? 0;
    const sign = (m.direction ?? 'higher-better') === 'higher-better' ? -1 : 1;
    return m.fp32[n] + sign * f * dmg;
  }

  async evaluate(state: QuantState | null, indices: number[] | null): Promise<EvalResult> {
    this.calls.push({
      kind: 'evaluate',
      fp32: state === null,
      indices: indices ? [...indices] : null,
      enabled: state ? [...state.enabled] : null,
      params: state ? JSON.parse(JSON.stringify(state.params)) : null,
    });
    const idx = indices ? [...indices] : Array.from({ length: this.spec.n }, (_, i) => i);
    this.inferences += idx.length;
    const metrics: Record<string, number> = {};
    const perSample: Record<string, number[]> = {};
    for (const m of this.spec.metrics) {
      const v = idx.map((n) => this.value(m, n, state));
      perSample[m.name] = v;
      metrics[m.name] = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    }
    return { indices: idx, metrics, perSample };
  }

  groups(state: QuantState): RevertGroup[] {
    const on = new Set(state.enabled);
    const out: RevertGroup[] = [];
    for (let g = 0; g < this.spec.groups; g++) {
      const qs = [`a:t${pad(g)}`, `w:t${pad(g)}`].filter((q) => on.has(q));
      if (qs.length) out.push({ id: `a:t${pad(g)}`, quantizers: qs, ops: [`op${pad(g)}`] });
    }
    return out;
  }

  quantizedOps(state: QuantState): string[] {
    return this.groups(state).flatMap((g) => g.ops);
  }

  counts(): { inferences: number; sessions: number } {
    return { inferences: this.inferences, sessions: 1 };
  }

  // ---- helpers for assertions

  quantizeCalls(): Extract<FakeCall, { kind: 'quantize' }>[] {
    return this.calls.filter((c): c is Extract<FakeCall, { kind: 'quantize' }> => c.kind === 'quantize');
  }
  evalCalls(): Extract<FakeCall, { kind: 'evaluate' }>[] {
    return this.calls.filter((c): c is Extract<FakeCall, { kind: 'evaluate' }> => c.kind === 'evaluate');
  }
  /** Full-set evaluations of quantized states. */
  fullQuantEvals() {
    return this.evalCalls().filter((c) => !c.fp32 && c.indices === null);
  }
  /** Subset evaluations of quantized states (ranking scores and tuning runs). */
  subsetQuantEvals() {
    return this.evalCalls().filter((c) => !c.fp32 && c.indices !== null);
  }
  fp32Evals() {
    return this.evalCalls().filter((c) => c.fp32);
  }
}

/** Damage rows from `{group: [samples...]}` with one value. */
export function rows(spec: Record<number, number[]>, value = 1): Record<number, Record<number, number>> {
  const out: Record<number, Record<number, number>> = {};
  for (const [g, samples] of Object.entries(spec)) {
    out[Number(g)] = Object.fromEntries(samples.map((n) => [n, value]));
  }
  return out;
}

export const ones = (n: number) => Array.from({ length: n }, () => 1);
