// Layer (group) importance: the ranking subset with POT's tie order, the hardest subset used by
// tune_hyperparams, and group scores (POT `accuracy_aware_common/algorithm.py::_get_node_importance`,
// `_create_hardest_ranking_subset`; NNCF subset_selection.py),
// and POT's ranking as a `Ranker` (ranker.ts): every group scored on the ranking subset.

import type { RevertGroup } from '../types';
import { revertGroup, type QuantState, type QuantizationBackend } from './backend';
import { comparator, type Direction } from './drop';
import { rankingSubsetSize } from './aaq-context';
import type { RankInput, Ranker } from './aaq-context';
import type { RankedGroup } from './history';

export type { RankedGroup };

/**
 * POT's `sort_by_metric_difference(fp32, q, comparator, reverse=True)`: positions ordered by
 * `comparator(fp32 − q)` descending, i.e. most degraded first. It is an ascending (stable) argsort
 * that is then flipped, so among equal values LATER positions come first.
 */
export function sortByDegradation(fp32: number[], q: number[], direction: Direction): number[] {
  if (fp32.length !== q.length) {
    throw new Error('Cannot compare samples: per-sample metric lists have different lengths.');
  }
  const cmp = comparator(direction);
  const diff = fp32.map((v, i) => cmp(v - q[i]));
  const order = diff.map((_, i) => i).sort((a, b) => diff[a] - diff[b] || a - b);
  return order.reverse();
}

/**
 * Positions (into the per-sample arrays) of the `size` most degraded samples, starting at rank
 * `from`, returned ascending. NNCF's test: `[1,2,1,2,3,1]`, size 4 → `[1,3,4,5]`.
 */
export function topDegradedPositions(fp32: number[], q: number[], direction: Direction, size: number, from = 0): number[] {
  return sortByDegradation(fp32, q, direction)
    .slice(from, from + Math.max(0, size))
    .sort((a, b) => a - b);
}

/** POT's `_get_ranking_subset`: the most degraded samples, mapped through `diff_subset` (ascending). */
export function rankingSubset(fp32: number[], q: number[], direction: Direction, diffSubset: number[], size: number, from = 0): number[] {
  return topDegradedPositions(fp32, q, direction, size, from).map((p) => diffSubset[p]);
}

/**
 * POT's `_create_hardest_ranking_subset` (tune_hyperparams): repeatedly take an equal share of the
 * still-needed size from each metric's most-degraded list (each pass starting at the number of
 * samples collected so far), until `size` samples are collected; duplicates removed. `size` is
 * clamped to the diff subset (POT loops forever otherwise). Returned ascending.
 */
export function hardestSubset(
  metrics: { name: string; direction: Direction }[],
  fp32: Record<string, number[]>,
  q: Record<string, number[]>,
  diffSubset: number[],
  size: number,
): number[] {
  const target = Math.min(size, diffSubset.length);
  const worst: number[] = [];
  const orders = metrics.map((m) => sortByDegradation(fp32[m.name], q[m.name], m.direction));
  while (worst.length < target) {
    const needed = target - worst.length;
    const topN = Math.ceil(needed / metrics.length);
    const from = worst.length;
    const local = new Set<number>();
    for (const order of orders) {
      for (const p of order.slice(from, from + target).slice(0, topN)) local.add(diffSubset[p]);
    }
    if (local.size === 0) break;
    worst.push(...local);
  }
  return [...new Set(worst)].sort((a, b) => a - b);
}

/** POT's order: `(score, group id)` descending; ties go to the lexicographically larger id. */
export function orderRanking(ranked: RankedGroup[]): RankedGroup[] {
  return [...ranked].sort((a, b) => {
    if (a.score !== b.score) return b.score - a.score;
    return a.group.id < b.group.id ? 1 : a.group.id > b.group.id ? -1 : 0;
  });
}

/**
 * Score every group of `state`: revert the group, evaluate the ranking subset only, and take the
 * aggregate metric through the comparator (higher = reverting it restores more). Ordered as POT.
 */
export async function scoreGroups(
  backend: QuantizationBackend,
  state: QuantState,
  groups: RevertGroup[],
  subset: number[],
  metric: { name: string; direction: Direction },
  onGroup?: (done: number, total: number) => void,
): Promise<RankedGroup[]> {
  const cmp = comparator(metric.direction);
  const out: RankedGroup[] = [];
  for (const group of (await backend.prepareRanking?.(state, groups)) ?? groups) {
    const ev = await backend.evaluate(revertGroup(state, group), subset);
    const v = ev.metrics[metric.name];
    if (typeof v !== 'number') throw new Error(`ranking evaluation did not report metric "${metric.name}"`);
    out.push({ group, score: cmp(v) });
    onGroup?.(out.length, groups.length);
  }
  return orderRanking(out);
}

/** POT's `_get_ranking_subset` for a ranking of `input.current` (no re-evaluation: its per-sample values). */
export function potRankingSubset({ ctx, s, current, spec }: RankInput): number[] {
  return rankingSubset(s.fp32PerSample![spec.name], current.perSample[spec.name], spec.direction, s.diffSubset, rankingSubsetSize(ctx));
}

/** POT's ranking: every group scored on the whole ranking subset; the list is taken in order. */
export const potRanker: Ranker = {
  name: 'pot',
  async rank(input) {
    const subset = potRankingSubset(input);
    input.onStart?.(subset.length);
    const entries = await scoreGroups(input.ctx.backend, input.current.state, input.groups, subset, input.spec, input.onGroup);
    return { subset, entries };
  },
  async next({ queue }) {
    return { entry: queue[0], rest: queue.slice(1), finished: [] };
  },
};

/**
 * The group to revert for a popped ranking entry, re-derived on the current state (POT re-derives
 * the group from the trigger FQ name): same seed id, else the group now containing that
 * quantizer, else the stored group restricted to quantizers still enabled.
 */
export function resolveGroup(current: RevertGroup[], stored: RevertGroup, enabled: string[]): RevertGroup {
  const byId = current.find((g) => g.id === stored.id);
  if (byId) return byId;
  const byMember = current.find((g) => g.quantizers.includes(stored.id));
  if (byMember) return byMember;
  const on = new Set(enabled);
  return { ...stored, quantizers: stored.quantizers.filter((q) => on.has(q)) };
}
