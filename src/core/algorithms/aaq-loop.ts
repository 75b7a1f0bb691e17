// The greedy scope search (pot-aaq-reference.md §2.4, POT `_change_quantization_scope`): one
// ranking or one iteration per step.

import { revertGroup } from './backend';
import { metricToOptimize } from './drop';
import {
  considerCandidate,
  emit,
  evaluateFull,
  finish,
  isMet,
  rankingSubsetSize,
  type AaqContext,
} from './aaq-context';
import type { AaqRunState, HistoryEntry, LoopState } from './history';
import { rankingSubset, resolveGroup, scoreGroups } from './ranking';

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

/**
 * Rank the groups of the current state: ranking subset from the current per-sample values (no
 * re-evaluation), then one subset evaluation per group.
 */
export async function stepRank(ctx: AaqContext, s: AaqRunState): Promise<void> {
  if (!s.loop) s.loop = initLoop(ctx, s);
  const L = s.loop;
  if (maxIterReached(ctx, L)) return finish(ctx, s, 'max-iter');
  const cur = s.current!;
  const spec = ctx.specs.find((m) => m.name === L.metricToOptimize)!;
  let groups = ctx.backend.groups(cur.state);
  if (ctx.params.exclude_rolled_back) {
    const out = new Set(L.rolledBack);
    groups = groups.filter((g) => !out.has(g.id));
  }
  const subset = rankingSubset(
    s.fp32PerSample![spec.name],
    cur.perSample[spec.name],
    spec.direction,
    s.diffSubset,
    rankingSubsetSize(ctx),
  );
  if (L.iteration > 0) ctx.log('Re-calculating node importance');
  emit(ctx, 'ranking', 0, groups.length, `ranking ${groups.length} groups on ${subset.length} samples`);
  L.ranking = await scoreGroups(ctx.backend, cur.state, groups, subset, spec, (done, total) =>
    emit(ctx, 'ranking', done, total),
  );
  const record = {
    afterIteration: L.iteration,
    metric: spec.name,
    subsetSize: subset.length,
    subset,
    scores: L.ranking.map((r) => ({ group: r.group.id, score: r.score })),
  };
  s.rankings.push(record);
  emit(ctx, 'ranking', groups.length, groups.length, 'ranking done', record);
  s.phase = 'iterate';
}

/** One iteration: revert the best-ranked group, evaluate the whole set, apply POT's rules. */
export async function stepIterate(ctx: AaqContext, s: AaqRunState): Promise<void> {
  const L = s.loop!;
  if (maxIterReached(ctx, L)) return finish(ctx, s, 'max-iter');
  if (L.ranking.length === 0) {
    ctx.log('All layers have been checked and the AccuracyAwareQuantization will not be able to achieve the required accuracy drop');
    return finish(ctx, s, 'not-met');
  }
  const prev = s.current!;
  const entry = L.ranking.shift()!;
  const group = resolveGroup(ctx.backend.groups(prev.state), entry.group, prev.state.enabled);
  const next = revertGroup(prev.state, group);
  L.iteration += 1;
  ctx.log(`Reverted ${group.ops.length} layers to the floating-point precision: ${group.ops.join(', ')}`);

  const ev = await evaluateFull(ctx, s, next, 'iteration');
  const metric = L.metricToOptimize;
  const newDrop = ev.drop[metric];
  const maxDrop = s.thresholds![metric];
  const reverted = { group: group.id, ops: [...group.ops] };
  considerCandidate(ctx, s, 'iteration', L.iteration, ev, [...L.reverted, reverted]);
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
  s.current = ev;
  L.reverted.push(reverted);
  const done = () => emit(ctx, 'iteration', L.iteration, ctx.params.max_iter_num ?? L.groupsTotal, `iteration ${L.iteration}`, rec);

  // POT checks "no FQ left" before success.
  if (next.enabled.length === 0) {
    ctx.log('Removed all FQ layers from the network!');
    done();
    return finish(ctx, s, 'all-reverted');
  }
  if (isMet(ctx, s, ev.drop)) {
    done();
    return finish(ctx, s, 'met');
  }
  // Continue down the existing list without re-ranking.
  if ((maxDrop < newDrop && newDrop <= L.accuracyDrop) || (newDrop > L.accuracyDrop && L.isStepBack)) {
    L.isStepBack = false;
    L.accuracyDrop = newDrop;
    done();
    s.phase = 'iterate';
    return;
  }
  if (newDrop > L.accuracyDrop && ctx.params.use_prev_if_drop_increase) {
    // Roll back to the previous state and its per-sample values (kept, not re-evaluated).
    s.current = prev;
    L.reverted.pop();
    L.rolledBack.push(group.id);
    L.isStepBack = true;
    rec.accepted = false;
    rec.rolledBack = true;
  }
  // POT quirk: the reference drop becomes the new value even after a rollback.
  L.accuracyDrop = newDrop;
  if (newDrop <= maxDrop) {
    const switched = metricToOptimize(ctx.specs, ev.drop, s.thresholds!, s.baseline!);
    ctx.log(`Optimizing ${switched} metric`);
    L.metricToOptimize = switched;
    L.accuracyDrop = L.originalDrop[switched];
    L.isStepBack = false;
    rec.switchedTo = switched;
  }
  if (maxIterReached(ctx, L)) {
    // POT would re-rank and then leave the loop; the ranking would be unused, so skip it.
    done();
    return finish(ctx, s, 'max-iter');
  }
  rec.reranked = true;
  done();
  s.phase = 'rank';
}
