// Work savings of the AAQ loop beyond POT's schedule (AccuracyAwareParams reuse_evaluations,
// early_stop, lazy_ranking). None changes a decision: each rests on two facts the backend vouches
// for through `perSampleBounds` — an evaluation gives a sample the same value whenever the same
// configuration is evaluated, and every per-sample value lies in [lo, hi] — plus the monotonicity
// of rounded floating-point addition: a left-to-right mean in which unknown values are replaced by
// `hi` (or `lo`) is an upper (lower) bound of the exact mean computed in the same order.
//
// A partial evaluation (`Evaluated.partial`) is an ordinary evaluation whose pass stopped early;
// `evaluateMore` continues it and, once nothing is missing, makes it exactly what a full pass gives.

import type { QuantState } from './backend';
import { computeDrops, type MetricSpec, type Metrics } from './drop';
import { emit, extractPerSample, type AaqContext, type Known } from './aaq-context';

export type { Known };
import type { AaqRunState, Evaluated, Savings } from './history';
import { stableStringify } from './params';

/** Samples evaluated between two looks at the decision (early_stop). */
export const CHUNK = 64;

export interface ActiveSavings {
  /** reuse_evaluations in rankings. */
  reuse: boolean;
  /** reuse_evaluations in full passes (their per-sample values must cover every sample). */
  reusePasses: boolean;
  earlyStop: boolean;
  lazyRanking: boolean;
}

/** Which optimisations apply to this run (the backend must vouch for bounded, deterministic values). */
export function activeSavings(ctx: AaqContext, s: AaqRunState): ActiveSavings {
  const b = ctx.backend.perSampleBounds;
  const bounded = !!b && ctx.specs.every((m) => !!b.call(ctx.backend, m.name));
  if (!bounded) return { reuse: false, reusePasses: false, earlyStop: false, lazyRanking: false };
  const p = ctx.params;
  const everySample = s.diffSubset.length === ctx.backend.datasetSize;
  return {
    reuse: p.reuse_evaluations,
    reusePasses: p.reuse_evaluations && everySample,
    // One metric, per-sample values for every sample, and no return_best (it compares exact drops).
    earlyStop: p.early_stop && ctx.specs.length === 1 && !p.return_best && everySample,
    lazyRanking: p.lazy_ranking,
  };
}

export function boundsOf(ctx: AaqContext, metric: string): [number, number] {
  const b = ctx.backend.perSampleBounds?.(metric);
  if (!b) throw new Error(`the backend gives no per-sample bounds for "${metric}"`);
  return b;
}

/** The best possible per-sample value of a metric (hi for higher-better, lo for lower-better). */
export function bestValue(ctx: AaqContext, spec: MetricSpec): number {
  const [lo, hi] = boundsOf(ctx, spec.name);
  return spec.direction === 'higher-better' ? hi : lo;
}

export function worstValue(ctx: AaqContext, spec: MetricSpec): number {
  const [lo, hi] = boundsOf(ctx, spec.name);
  return spec.direction === 'higher-better' ? lo : hi;
}

export function savingsOf(s: AaqRunState): Savings {
  s.savings ??= { reuse_evaluations: 0, early_stop: 0, lazy_ranking: 0 };
  return s.savings;
}

/** Identity of a configuration within one run (grids follow from the params; quantize is deterministic). */
export function stateKey(state: QuantState): string {
  return `${stableStringify(state.params)}|${[...state.enabled].sort().join(',')}`;
}

/** Left-to-right mean with `fill` in place of unknown values (a bound of the exact mean, see top). */
export function meanWith(values: readonly (number | null)[], fill: number): number {
  let sum = 0;
  for (const v of values) sum += v === null ? fill : v;
  return sum / values.length;
}

/**
 * A partial evaluation of `state`: the `known` values filled in, every other sample missing,
 * ordered so that `first(idx)` samples come first (ascending within each class).
 */
export function startPartial(ctx: AaqContext, s: AaqRunState, state: QuantState, known: Known | undefined, first?: (idx: number) => boolean): Evaluated {
  const perSample: Record<string, number[]> = Object.fromEntries(ctx.specs.map((m) => [m.name, s.diffSubset.map(() => 0)]));
  const missingA: number[] = [];
  const missingB: number[] = [];
  let evaluated = 0;
  s.diffSubset.forEach((idx, p) => {
    const k = known?.get(idx);
    if (k) {
      for (const m of ctx.specs) perSample[m.name][p] = k[m.name];
      evaluated++;
    } else if (!first || first(idx)) missingA.push(idx);
    else missingB.push(idx);
  });
  const ev: Evaluated = { state, metrics: {}, drop: {}, perSample, partial: { missing: [...missingA, ...missingB], evaluated } };
  savingsOf(s).reuse_evaluations += evaluated;
  refreshBounds(ctx, s, ev);
  return ev;
}

/** Metric values of a partial evaluation with every missing sample at `pick`'s value. */
function metricsWith(ctx: AaqContext, s: AaqRunState, ev: Evaluated, pick: (m: MetricSpec) => number): Metrics {
  const missing = new Set(ev.partial?.missing ?? []);
  const out: Metrics = {};
  for (const m of ctx.specs) {
    const vals = s.diffSubset.map((idx, p) => (missing.has(idx) ? null : ev.perSample[m.name][p]));
    out[m.name] = meanWith(vals, pick(m));
  }
  return out;
}

/** metrics: missing samples at their best (upper bound); drop: hence a lower bound. */
function refreshBounds(ctx: AaqContext, s: AaqRunState, ev: Evaluated): void {
  ev.metrics = metricsWith(ctx, s, ev, (m) => bestValue(ctx, m));
  ev.drop = computeDrops(ctx.specs, s.baseline!, ev.metrics);
}

/** [lowest, highest] possible drop of `metric` (equal when the evaluation is complete). */
export function dropRange(ctx: AaqContext, s: AaqRunState, ev: Evaluated, metric: string): [number, number] {
  if (!ev.partial) return [ev.drop[metric], ev.drop[metric]];
  const worst = computeDrops(
    ctx.specs,
    s.baseline!,
    metricsWith(ctx, s, ev, (m) => worstValue(ctx, m)),
  );
  return [ev.drop[metric], worst[metric]];
}

/**
 * Evaluate up to `count` more missing samples of a partial evaluation (all with 'all'). When none
 * is left the evaluation becomes exact: the same metrics a full pass computes (the backend's
 * aggregate is the left-to-right mean over the samples in index order) and its history entry
 * gets them too.
 */
export async function evaluateMore(ctx: AaqContext, s: AaqRunState, ev: Evaluated, count: number | 'all'): Promise<void> {
  const part = ev.partial;
  if (!part) return;
  const take = part.missing.splice(0, count === 'all' ? part.missing.length : count);
  if (take.length) {
    const sorted = [...take].sort((a, b) => a - b);
    const r = await ctx.backend.evaluate(ev.state, sorted);
    const vals = extractPerSample(r, ctx.specs, sorted);
    const pos = new Map<number, number>();
    s.diffSubset.forEach((idx, p) => pos.set(idx, p));
    sorted.forEach((idx, k) => {
      const p = pos.get(idx)!;
      for (const m of ctx.specs) ev.perSample[m.name][p] = vals[m.name][k];
    });
    part.evaluated += take.length;
    if (part.booked) savingsOf(s).early_stop -= take.length;
    emit(ctx, 'iteration', part.evaluated, s.diffSubset.length);
  }
  if (part.missing.length > 0) return refreshBounds(ctx, s, ev);
  delete ev.partial;
  ev.metrics = metricsWith(ctx, s, ev, () => 0);
  ev.drop = computeDrops(ctx.specs, s.baseline!, ev.metrics);
  const h = part.historyIndex !== undefined ? s.history[part.historyIndex] : undefined;
  if (h) {
    h.metrics = { ...ev.metrics };
    h.drop = { ...ev.drop };
    delete h.partial;
  }
}

export async function complete(ctx: AaqContext, s: AaqRunState, ev: Evaluated | null | undefined): Promise<void> {
  if (ev?.partial) await evaluateMore(ctx, s, ev, 'all');
}

/** Book a partial evaluation's missing samples as early_stop savings (undone as they get evaluated). */
export function bookEarlyStop(s: AaqRunState, ev: Evaluated): void {
  if (!ev.partial || ev.partial.booked) return;
  ev.partial.booked = true;
  savingsOf(s).early_stop += ev.partial.missing.length;
}

/** Known values of an evaluation (complete or partial) by dataset index. */
export function knownOf(s: AaqRunState, ev: Evaluated): Known {
  const missing = new Set(ev.partial?.missing ?? []);
  const out: Known = new Map();
  s.diffSubset.forEach((idx, p) => {
    if (!missing.has(idx)) out.set(idx, Object.fromEntries(Object.entries(ev.perSample).map(([m, v]) => [m, v[p]])));
  });
  return out;
}
