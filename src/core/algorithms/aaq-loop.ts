// The greedy scope search (POT `accuracy_aware_common/algorithm.py::_change_quantization_scope`): one
// ranking or one iteration per step. Rankings come from the run's `Ranker` (ranker.ts): the loop
// records each ranking once and the scores finished later beside it, and never edits either. With
// the work savings on (aaq-lazy.ts, ranking-lazy.ts) the same decisions are taken from fewer sample
// inferences: an iteration's pass over the data stops once the outcome is certain, and is finished
// only if a later step needs its exact values.

import { revertGroup } from './backend';
import { metricToOptimize, withinLimit } from './drop';
import { considerCandidate, emit, evaluateFull, finish, isMet, type AaqContext } from './aaq-context';
import { CHUNK, activeSavings, bestValue, bookEarlyStop, complete, dropRange, evaluateMore, startPartial } from './aaq-lazy';
import type { AaqRunState, AaqStatus, Evaluated, HistoryEntry, LoopState } from './history';
import { createRanker, recordOf } from './ranker';
import { resolveGroup } from './ranking';

function maxIterReached(ctx: AaqContext, L: LoopState): boolean {
  const max = ctx.params.max_iter_num;
  return max !== null && L.iteration >= max;
}

function initLoop(ctx: AaqContext, s: AaqRunState): LoopState {
  const cur = s.current!;
  const quantizedOpsTotal = ctx.backend.quantizedOps(cur.state).length;
  ctx.log(`The total number of quantized operations in the graph: ${quantizedOpsTotal}`);
  const metric = metricToOptimize(ctx.specs, cur.drop, s.thresholds!, s.baseline!);
  ctx.log(`Optimizing ${metric} metric`);
  return {
    quantizedOpsTotal,
    groupsTotal: ctx.backend.groups(cur.state).length,
    originalDrop: { ...cur.drop },
    metricToOptimize: metric,
    accuracyDrop: cur.drop[metric],
    isStepBack: true,
    ranking: [],
    iteration: 0,
    reverted: [],
    rolledBack: [],
  };
}

/** The current state evaluated on every sample (an early-stopped pass is finished). */
async function completeCurrent(ctx: AaqContext, s: AaqRunState): Promise<void> {
  await complete(ctx, s, s.current);
  const L = s.loop;
  if (L?.accRef === 'current') {
    L.accuracyDrop = s.current!.drop[L.metricToOptimize];
    delete L.accRef;
  }
}

/** End the run on an exactly evaluated final state. */
async function finishExact(ctx: AaqContext, s: AaqRunState, status: AaqStatus): Promise<void> {
  await completeCurrent(ctx, s);
  finish(ctx, s, status);
}

/** Rank the groups of the current state (POT: ranking subset from its per-sample values, then one
 *  subset evaluation per group; lazy_ranking: bounds first) and record the ranking. */
export async function stepRank(ctx: AaqContext, s: AaqRunState): Promise<void> {
  if (!s.loop) s.loop = initLoop(ctx, s);
  const L = s.loop;
  if (maxIterReached(ctx, L)) return finishExact(ctx, s, 'max-iter');
  await completeCurrent(ctx, s);
  const cur = s.current!;
  const spec = ctx.specs.find((m) => m.name === L.metricToOptimize)!;
  let groups = ctx.backend.groups(cur.state);
  if (ctx.params.exclude_rolled_back) {
    const out = new Set(L.rolledBack);
    groups = groups.filter((g) => !out.has(g.id));
  }
  if (L.iteration > 0) ctx.log('Re-calculating node importance');
  const ranking = await createRanker(ctx, s).rank({
    ctx,
    s,
    current: cur,
    groups,
    spec,
    rolledBack: L.rolledBackEval,
    onStart: (n) => emit(ctx, 'ranking', 0, groups.length, `ranking ${groups.length} groups on ${n} samples`),
    onGroup: (done, total) => emit(ctx, 'ranking', done, total),
  });
  delete L.rolledBackEval;
  const record = recordOf(L.iteration, spec.name, ranking);
  L.ranked = { state: cur.state, subset: ranking.subset, metric: spec.name, record: s.rankings.length };
  L.ranking = ranking.entries;
  s.rankings.push(record);
  emit(ctx, 'ranking', groups.length, groups.length, 'ranking done', record);
  s.phase = 'iterate';
}

/** One iteration: revert the best-ranked group, evaluate the whole set, apply POT's rules. */
export async function stepIterate(ctx: AaqContext, s: AaqRunState): Promise<void> {
  const L = s.loop!;
  if (maxIterReached(ctx, L)) return finishExact(ctx, s, 'max-iter');
  if (L.ranking.length === 0) {
    ctx.log('All layers have been checked and the AccuracyAwareQuantization will not be able to achieve the required accuracy drop');
    return finishExact(ctx, s, 'not-met');
  }
  const act = activeSavings(ctx, s);
  const prev = s.current!;
  // The evaluation whose drop L.accuracyDrop is, while that pass stopped early.
  const accEval: Evaluated | undefined = L.accRef === 'current' ? prev : L.accRef;
  const ranker = createRanker(ctx, s);
  const on = L.ranked!;
  const { entry, rest, finished } = await ranker.next({ ctx, s, on, queue: L.ranking });
  L.ranking = rest;
  s.finishedScores.push(...finished.map((f) => ({ ranking: on.record, group: f.group, score: f.score })));
  const group = resolveGroup(ctx.backend.groups(prev.state), entry.group, prev.state.enabled);
  const next = revertGroup(prev.state, group);
  L.iteration += 1;
  ctx.log(`Reverted ${group.ops.length} layers to the floating-point precision: ${group.ops.join(', ')}`);

  const metric = L.metricToOptimize;
  const maxDrop = s.thresholds![metric];
  const known = ranker.known?.(on, entry, next);
  const early = act.earlyStop && next.enabled.length > 0;
  let ev: Evaluated;
  if (early || known) {
    // Hardest samples first: those the previous state or FP32 got below their best value.
    const spec = ctx.specs.find((m) => m.name === metric)!;
    const best = bestValue(ctx, spec);
    const hard = (idx: number) => prev.perSample[metric][idx] !== best || s.fp32PerSample![metric][idx] !== best;
    ev = startPartial(ctx, s, next, known, early ? hard : undefined);
  } else {
    ev = await evaluateFull(ctx, s, next, 'iteration');
  }
  const rec: HistoryEntry = {
    iteration: L.iteration,
    group: group.id,
    ops: [...group.ops],
    metric,
    metrics: ev.metrics,
    drop: ev.drop,
    accepted: true,
    rolledBack: false,
    reranked: false,
  };
  s.history.push(rec);
  if (ev.partial) ev.partial.historyIndex = s.history.length - 1;
  // Met? A met state is final, hence evaluated in full; stop early only once "not met" is certain.
  if (!early) await complete(ctx, s, ev);
  while (ev.partial && withinLimit(dropRange(ctx, s, ev, metric)[0], maxDrop)) await evaluateMore(ctx, s, ev, CHUNK);
  const newDrop = ev.drop[metric]; // exact, or (early stop) a lower bound above maxDrop
  const reverted = { group: group.id, ops: [...group.ops] };
  considerCandidate(ctx, s, 'iteration', L.iteration, ev, [...L.reverted, reverted]);
  s.current = ev;
  L.reverted.push(reverted);
  const done = () => {
    rec.metrics = ev.metrics;
    rec.drop = ev.drop;
    if (ev.partial) {
      bookEarlyStop(s, ev);
      rec.partial = { evaluated: ev.partial.evaluated, of: s.diffSubset.length };
    }
    emit(ctx, 'iteration', L.iteration, ctx.params.max_iter_num ?? L.groupsTotal, `iteration ${L.iteration}`, rec);
  };

  // POT checks "no FQ left" before success.
  if (next.enabled.length === 0) {
    ctx.log('Removed all FQ layers from the network!');
    done();
    return finishExact(ctx, s, 'all-reverted');
  }
  if (!ev.partial && isMet(ctx, s, ev.drop)) {
    done();
    return finishExact(ctx, s, 'met');
  }
  // newDrop ≤ accuracyDrop, refining either evaluation while their ranges overlap.
  let le: boolean | undefined;
  const newLeAcc = async (): Promise<boolean> => {
    while (le === undefined) {
      const [a, b] = dropRange(ctx, s, ev, metric);
      const [c, d] = accEval ? dropRange(ctx, s, accEval, metric) : [L.accuracyDrop, L.accuracyDrop];
      if (b <= c) le = true;
      else if (a > d) le = false;
      else if (ev.partial && (!accEval?.partial || b - a >= d - c)) await evaluateMore(ctx, s, ev, CHUNK);
      else await evaluateMore(ctx, s, accEval!, CHUNK);
    }
    if (accEval && !accEval.partial && L.accRef) L.accuracyDrop = accEval.drop[metric];
    return le;
  };
  const aboveMax = ev.partial ? true : !withinLimit(newDrop, maxDrop);
  // Continue down the existing list without re-ranking.
  const cont = aboveMax ? L.isStepBack || (await newLeAcc()) : L.isStepBack && !(await newLeAcc());
  const setAcc = (ref: 'current' | Evaluated) => {
    L.accuracyDrop = ev.drop[metric];
    if (ev.partial) L.accRef = ref;
    else delete L.accRef;
  };
  if (cont) {
    L.isStepBack = false;
    setAcc('current');
    done();
    s.phase = 'iterate';
    return;
  }
  if (!(await newLeAcc()) && ctx.params.use_prev_if_drop_increase) {
    // Roll back to the previous state and its per-sample values (kept, not re-evaluated).
    s.current = prev;
    L.reverted.pop();
    L.rolledBack.push(group.id);
    L.isStepBack = true;
    rec.accepted = false;
    rec.rolledBack = true;
    // A read-only copy: only its known values are reused by the re-ranking.
    if (act.reuse) L.rolledBackEval = { ...ev, partial: ev.partial && { missing: [...ev.partial.missing], evaluated: ev.partial.evaluated } };
  }
  // POT quirk: the reference drop becomes the new value even after a rollback.
  setAcc(s.current === ev ? 'current' : ev);
  if (!aboveMax) {
    const switched = metricToOptimize(ctx.specs, ev.drop, s.thresholds!, s.baseline!);
    ctx.log(`Optimizing ${switched} metric`);
    L.metricToOptimize = switched;
    L.accuracyDrop = L.originalDrop[switched];
    delete L.accRef;
    L.isStepBack = false;
    rec.switchedTo = switched;
  }
  if (maxIterReached(ctx, L)) {
    // POT would re-rank and then leave the loop; the ranking would be unused, so skip it.
    done();
    return finishExact(ctx, s, 'max-iter');
  }
  rec.reranked = true;
  done();
  s.phase = 'rank';
}
