// Shared plumbing of the AAQ steps: the run context, full evaluations with per-sample values on
// the diff subset, return_best candidates and the end-of-run messages (POT's wording).

import type { AccuracyAwareParams } from '../config/types';
import type { ProgressFn, Stage } from '../types';
import type { EvalResult, QuantState, QuantizationBackend } from './backend';
import { computeDrops, pickMetrics, restrictionsMet, worstExcess, type MetricSpec } from './drop';
import type { RevertGroup } from '../types';
import type { AaqRunState, AaqStatus, Candidate, CandidateSource, Evaluated, RankedGroup, RankedOn, RevertedGroup } from './history';

export interface AaqContext {
  backend: QuantizationBackend;
  params: AccuracyAwareParams;
  specs: MetricSpec[];
  progress?: ProgressFn;
  log: (message: string) => void;
  /** A ranker given by the caller (`AaqOptions.ranker`); else the parameters choose (ranker.ts). */
  ranker?: RankerFactory;
}

export interface AaqOptions {
  /** Continue from a checkpointed state (same backend model/data and same params). */
  resumeFrom?: AaqRunState;
  /** Called with a copy of the state after every completed step. */
  checkpoint?: (state: AaqRunState) => void | Promise<void>;
  progress?: ProgressFn;
  log?: (message: string) => void;
  /** Rank with this ranker instead of the one the parameters select (ranker.ts); a resumed run
   *  must be given the same. */
  ranker?: RankerFactory;
}

/** Known per-sample values of one configuration, by dataset index. */
export type Known = Map<number, Record<string, number>>;

// ---------------------------------------------------------------------------------------------
// The ranker contract (ranker.ts has the factory and says more)

export interface RankInput {
  ctx: AaqContext;
  /** The run. A ranker reads it and may add to its `savings` counters; it changes nothing else. */
  s: AaqRunState;
  /** The state to rank, evaluated on every sample of the diff subset. */
  current: Evaluated;
  /** Groups of `current.state` to rank (the loop has left out the ones it excludes). */
  groups: RevertGroup[];
  /** The metric being optimised. */
  spec: MetricSpec;
  /** The last rolled-back evaluation, offered for reuse (set only with reuse_evaluations). */
  rolledBack?: Evaluated;
  /** Called once the ranking subset is chosen, before any candidate is evaluated. */
  onStart?: (subsetSize: number) => void;
  onGroup?: (done: number, total: number) => void;
}

/** A ranking: the samples it was computed on and its entries, the first to revert first. */
export interface Ranking {
  /** Dataset indices of the ranking subset (ascending). */
  subset: number[];
  entries: RankedGroup[];
}

export interface NextInput {
  ctx: AaqContext;
  s: AaqRunState;
  /** What the remaining list was ranked on (`LoopState.ranked`). */
  on: RankedOn;
  /** The remaining list (`LoopState.ranking`, non-empty); not to be modified. */
  queue: readonly RankedGroup[];
}

export interface NextEntry {
  /** The entry to revert now. */
  entry: RankedGroup;
  /** The list left after it, in the ranker's order. */
  rest: RankedGroup[];
  /** Scores finished while choosing (lazy_ranking: bounds made exact), as new values. */
  finished: { group: string; score: number }[];
}

export interface Ranker {
  readonly name: string;
  /** Rank `input.groups` (each reverted alone on `input.current.state`). */
  rank(input: RankInput): Promise<Ranking>;
  /** The next entry of the remaining list. */
  next(input: NextInput): Promise<NextEntry>;
  /** reuse_evaluations: values of the iteration's configuration `next` the ranking already knows. */
  known?(on: RankedOn, entry: RankedGroup, next: QuantState): Known | undefined;
}

export type RankerFactory = (ctx: AaqContext, s: AaqRunState) => Ranker;

export const MSG_NOT_ACHIEVED = 'AccuracyAwareQuantization could not achieve the required accuracy drop.';
export const MSG_MAX_ITER = 'Reached maximum number of iterations.';

export function emit(ctx: AaqContext, stage: Stage, done: number, total: number, message?: string, data?: unknown): void {
  ctx.progress?.({ stage, done, total, ...(message !== undefined ? { message } : {}), ...(data !== undefined ? { data } : {}) });
}

/** Forward the backend's per-sample progress under our stage. */
export function stageProgress(ctx: AaqContext, stage: Stage): ProgressFn | undefined {
  const p = ctx.progress;
  return p ? (e) => p({ ...e, stage }) : undefined;
}

/** `ranking_subset_size`, POT default min(N, 300). */
export function rankingSubsetSize(ctx: AaqContext): number {
  const n = ctx.backend.datasetSize;
  return ctx.params.ranking_subset_size ?? Math.min(n, 300);
}

/** Per-sample values of each metric at the `diffSubset` indices. */
export function extractPerSample(ev: EvalResult, specs: MetricSpec[], diffSubset: number[]): Record<string, number[]> {
  const pos = new Map<number, number>();
  ev.indices.forEach((idx, p) => pos.set(idx, p));
  const out: Record<string, number[]> = {};
  for (const s of specs) {
    const values = ev.perSample[s.name];
    if (!values) throw new Error(`the evaluation did not report per-sample values of "${s.name}"`);
    out[s.name] = diffSubset.map((idx) => {
      const p = pos.get(idx);
      if (p === undefined) throw new Error(`the evaluation did not cover sample ${idx}`);
      return values[p];
    });
  }
  return out;
}

/** Evaluate a quantized state on the whole validation set (POT: every accepted step costs this). */
export async function evaluateFull(ctx: AaqContext, s: AaqRunState, state: QuantState, stage: Stage): Promise<Evaluated> {
  const ev = await ctx.backend.evaluate(state, null, stageProgress(ctx, stage));
  const metrics = pickMetrics(ctx.specs, ev.metrics);
  return {
    state,
    metrics,
    drop: computeDrops(ctx.specs, s.baseline!, metrics),
    perSample: extractPerSample(ev, ctx.specs, s.diffSubset),
  };
}

export function isMet(ctx: AaqContext, s: AaqRunState, drop: Record<string, number>): boolean {
  return restrictionsMet(ctx.specs, drop, s.thresholds!);
}

/**
 * Remember a fully evaluated state for `return_best`: a state that meets the target beats one
 * that does not; otherwise the lower worst normalized excess wins; ties keep the earlier state.
 */
export function considerCandidate(ctx: AaqContext, s: AaqRunState, source: CandidateSource, iteration: number, ev: Evaluated, reverted: RevertedGroup[]): void {
  if (!ctx.params.return_best) return;
  const met = isMet(ctx, s, ev.drop);
  const key = worstExcess(ctx.specs, ev.drop, s.thresholds!, s.baseline!);
  const b = s.best;
  const better = !b || (met && !b.met) || (met === b.met && key < b.key);
  if (!better) return;
  const c: Candidate = { source, iteration, key, met, state: ev.state, metrics: ev.metrics, drop: ev.drop, reverted };
  s.best = JSON.parse(JSON.stringify(c)) as Candidate;
}

/** What the run returns: the last state (POT), or the best candidate with `return_best`. */
export function selectReturned(
  ctx: AaqContext,
  s: AaqRunState,
): { source: CandidateSource; iteration: number; best: boolean; state: QuantState; metrics: Record<string, number>; drop: Record<string, number>; reverted: RevertedGroup[] } {
  const cur = s.current!;
  const lastSource: CandidateSource = s.loop && s.loop.iteration > 0 ? 'iteration' : s.tuning?.applied?.kept ? 'tuned' : s.mixed ? 'mixed' : 'quantized';
  const last = {
    source: lastSource,
    iteration: s.loop?.iteration ?? 0,
    best: false,
    state: cur.state,
    metrics: cur.metrics,
    drop: cur.drop,
    reverted: s.loop?.reverted ?? [],
  };
  if (!ctx.params.return_best || !s.best) return last;
  const b = s.best;
  return { source: b.source, iteration: b.iteration, best: true, state: b.state, metrics: b.metrics, drop: b.drop, reverted: b.reverted };
}

/** End the run with POT's messages (could not achieve / max iterations / K out of M). */
export function finish(ctx: AaqContext, s: AaqRunState, status: AaqStatus): void {
  s.status = status;
  s.phase = 'done';
  const messages: string[] = [];
  if (s.loop) {
    if (status !== 'met') messages.push(MSG_NOT_ACHIEVED);
    if (status === 'max-iter') messages.push(MSG_MAX_ITER);
    // POT reports the reverted layers unless every FQ was removed or the ranking ran dry.
    if (status !== 'all-reverted' && status !== 'not-met') {
      const sel = selectReturned(ctx, s);
      const ops = uniqueOps(sel.reverted);
      messages.push(`${ops.length} out of ${s.loop.quantizedOpsTotal} layers have been reverted back to the floating-point precision: ${ops.join(', ')}`);
    }
  }
  for (const m of messages) ctx.log(m);
  s.messages.push(...messages);
}

export function uniqueOps(reverted: RevertedGroup[]): string[] {
  return [...new Set(reverted.flatMap((r) => r.ops))];
}
