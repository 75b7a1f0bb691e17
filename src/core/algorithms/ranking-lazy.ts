// Group ranking with the work savings (see aaq-lazy.ts for why they are exact):
//  - reuse_evaluations: a candidate that is the last rolled-back configuration takes its values;
//  - lazy_ranking: a sample already at the best possible value under the ranked state can only
//    stay there or get worse when a group is reverted, so each group is first scored on the other
//    samples only, with the skipped ones counted at their best: an UPPER bound of its POT score.
//    Popping the next group (`popBest`) finishes the score of whichever group heads the list until
//    the head is exact; every group below it then has a true score ≤ its bound ≤ the head's, so the
//    head is exactly POT's next entry (POT's order: score, then group id, both descending).

import type { RevertGroup } from '../types';
import { revertGroup, type QuantState } from './backend';
import { comparator, type MetricSpec } from './drop';
import type { AaqContext } from './aaq-context';
import { extractPerSample } from './aaq-context';
import { bestValue, knownOf, meanWith, savingsOf, stateKey, worstValue, type ActiveSavings, type Known } from './aaq-lazy';
import type { AaqRunState, Evaluated, LoopState } from './history';
import { orderRanking, type RankedGroup } from './ranking';

type Values = Record<string, (number | null)[]>;

/** Evaluate `state` at the `need` positions of `subset` and write every metric into `values`. */
async function fill(ctx: AaqContext, state: QuantState, subset: number[], need: number[], values: Values): Promise<void> {
  if (!need.length) return;
  const indices = need.map((p) => subset[p]);
  const ev = await ctx.backend.evaluate(state, indices);
  const vals = extractPerSample(ev, ctx.specs, indices);
  need.forEach((p, k) => {
    for (const m of ctx.specs) values[m.name][p] = vals[m.name][k];
  });
}

/**
 * Score every group of `cur.state` on the ranking `subset` (dataset indices, ascending), with
 * the active savings. Returned in POT's order; `bound` entries hold an upper bound.
 */
export async function rankGroups(
  ctx: AaqContext,
  s: AaqRunState,
  cur: Evaluated,
  groups: RevertGroup[],
  subset: number[],
  spec: MetricSpec,
  act: ActiveSavings,
  onGroup?: (done: number, total: number) => void,
): Promise<RankedGroup[]> {
  const L = s.loop!;
  const cmp = comparator(spec.direction);
  const best = bestValue(ctx, spec);
  const sv = savingsOf(s);
  let memo: { key: string; known: Known } | undefined;
  if (act.reuse && L.rolledBackEval) memo = { key: stateKey(L.rolledBackEval.state), known: knownOf(s, L.rolledBackEval) };
  const pos = new Map<number, number>();
  s.diffSubset.forEach((idx, p) => pos.set(idx, p));
  const atBest = subset.map((idx) => act.lazyRanking && cur.perSample[spec.name][pos.get(idx)!] === best);
  const out: RankedGroup[] = [];
  for (const group of (await ctx.backend.prepareRanking?.(cur.state, groups)) ?? groups) {
    const cand = revertGroup(cur.state, group);
    const known = memo && memo.key === stateKey(cand) ? memo.known : undefined;
    const values: Values = Object.fromEntries(ctx.specs.map((m) => [m.name, subset.map(() => null)]));
    const need: number[] = [];
    subset.forEach((idx, p) => {
      const k = known?.get(idx);
      if (k) {
        for (const m of ctx.specs) values[m.name][p] = k[m.name];
        sv.reuse_evaluations++;
      } else if (!atBest[p]) need.push(p);
    });
    await fill(ctx, cand, subset, need, values);
    const unknown = values[spec.name].filter((v) => v === null).length;
    sv.lazy_ranking += unknown;
    const entry: RankedGroup = { group, score: cmp(meanWith(values[spec.name], best)) };
    if (unknown) entry.bound = true;
    if (act.reuse || unknown) entry.values = values;
    out.push(entry);
    onGroup?.(out.length, groups.length);
  }
  return orderRanking(out);
}

/** Finish a bounded entry's score on the samples lazy_ranking skipped. */
async function refine(ctx: AaqContext, s: AaqRunState, L: LoopState, entry: RankedGroup): Promise<void> {
  const r = L.ranked!;
  const spec = ctx.specs.find((m) => m.name === r.metric)!;
  const values = entry.values!;
  const need = values[spec.name].flatMap((v, p) => (v === null ? [p] : []));
  await fill(ctx, revertGroup(r.state, entry.group), r.subset, need, values);
  savingsOf(s).lazy_ranking -= need.length;
  entry.score = comparator(spec.direction)(meanWith(values[spec.name], 0));
  delete entry.bound;
  const rec = s.rankings[r.record];
  if (rec) {
    const row = rec.scores.find((x) => x.group === entry.group.id);
    if (row) {
      row.score = entry.score;
      delete row.bound;
    }
    rec.scores.sort((a, b) => b.score - a.score || (a.group < b.group ? 1 : a.group > b.group ? -1 : 0));
  }
}

/** (score, id) of `a` ranks above (score, id) of `b` in POT's order. */
const above = (sa: number, ida: string, sb: number, idb: string) => sa > sb || (sa === sb && ida > idb);

/**
 * POT's next ranking entry (the list head), finishing bounded scores as needed. A bounded head is
 * certain without finishing when even its lowest possible score (skipped samples at their worst)
 * ranks above every other entry's upper bound — always the case for the last entry.
 */
export async function popBest(ctx: AaqContext, s: AaqRunState, L: LoopState): Promise<RankedGroup> {
  for (;;) {
    L.ranking = orderRanking(L.ranking);
    const top = L.ranking[0];
    if (top.bound) {
      const spec = ctx.specs.find((m) => m.name === L.ranked!.metric)!;
      const low = comparator(spec.direction)(meanWith(top.values![spec.name], worstValue(ctx, spec)));
      if (L.ranking.slice(1).some((o) => !above(low, top.group.id, o.score, o.group.id))) {
        await refine(ctx, s, L, top);
        continue;
      }
    }
    L.ranking.shift();
    return top;
  }
}

/** reuse_evaluations: the popped entry's candidate values, when the iteration evaluates that very configuration. */
export function knownForIteration(L: LoopState, entry: RankedGroup, next: QuantState): Known | undefined {
  const r = L.ranked;
  if (!entry.values || !r || stateKey(revertGroup(r.state, entry.group)) !== stateKey(next)) return undefined;
  const names = Object.keys(entry.values);
  const out: Known = new Map();
  r.subset.forEach((idx, p) => {
    if (names.every((m) => entry.values![m][p] !== null)) out.set(idx, Object.fromEntries(names.map((m) => [m, entry.values![m][p] as number])));
  });
  return out.size ? out : undefined;
}
