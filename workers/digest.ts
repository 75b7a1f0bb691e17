// The Watch screen's view of a run, computed from the AAQ run state after every step.

import type { AaqRunState } from '../src/core/algorithms/history';
import { reportedRankings } from '../src/core/algorithms/ranker';
import type { AccuracyAwareParams, DefaultQuantizationParams } from '../src/core/config/types';
import type { RunDigest } from './protocol';

export interface DigestContext {
  params: DefaultQuantizationParams | AccuracyAwareParams;
  layers: { name: string; op: string }[];
  /** Ops at INT8 in the current state (empty before quantization). */
  int8: string[];
  groupOps: Map<string, string[]>;
}

export function emptyDigest(ctx: DigestContext): RunDigest {
  const p = ctx.params as Partial<AccuracyAwareParams>;
  return {
    phase: 'baseline',
    status: null,
    metrics: [],
    maximalDrop: p.maximal_drop ?? 0,
    dropType: p.drop_type ?? 'absolute',
    thresholds: null,
    baseline: null,
    quantized: null,
    current: null,
    history: [],
    rankings: [],
    groupOps: Object.fromEntries(ctx.groupOps),
    reverted: [],
    layers: ctx.layers,
    int8: ctx.int8,
    groupsTotal: 0,
    messages: [],
  };
}

/** Remembers the ops of every group seen in a ranking or an iteration. */
export function collectGroupOps(s: AaqRunState, into: Map<string, string[]>): void {
  for (const r of s.loop?.ranking ?? []) if (!into.has(r.group.id)) into.set(r.group.id, [...r.group.ops]);
  for (const h of s.history) if (!into.has(h.group)) into.set(h.group, [...h.ops]);
}

export function digestOf(s: AaqRunState, ctx: DigestContext): RunDigest {
  collectGroupOps(s, ctx.groupOps);
  return {
    ...emptyDigest(ctx),
    phase: s.phase,
    status: s.status,
    metrics: s.metrics.map((m) => ({ name: m.name, direction: m.direction })),
    thresholds: s.thresholds,
    baseline: s.baseline,
    quantized: s.quantized,
    current: s.current ? { metrics: s.current.metrics, drop: s.current.drop } : null,
    history: s.history,
    rankings: reportedRankings(s).map((r) => ({ afterIteration: r.afterIteration, metric: r.metric, subsetSize: r.subsetSize, scores: r.scores })),
    reverted: s.loop?.reverted ?? [],
    groupsTotal: s.loop?.groupsTotal ?? 0,
    messages: s.messages,
  };
}
