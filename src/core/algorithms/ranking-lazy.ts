// Group ranking with the work savings (see aaq-lazy.ts for why they are exact):
//  - reuse_evaluations: a candidate that is the last rolled-back configuration takes its values;
//  - lazy_ranking: a sample already at the best possible value under the ranked state can only
//    stay there or get worse when a group is reverted, so each group is first scored on the other
//    samples only, with the skipped ones counted at their best: an UPPER bound of its POT score.
//    Popping the next group (`popBest`) finishes the score of whichever group heads the list until
//    the head is exact; every group below it then has a true score ≤ its bound ≤ the head's, so the
//    head is exactly POT's next entry (POT's order: score, then group id, both descending).
// As a `Ranker` (ranker.ts): `rank` = rankGroups, `next` = popBest, `known` = knownForIteration.
// Nothing given is edited: a finished score makes a new entry, reported back as a finished score.

import type { QuantState } from './backend';
import { revertGroup } from './backend';
import { comparator } from './drop';
import type { AaqContext } from './aaq-context';
import { extractPerSample } from './aaq-context';
import { bestValue, knownOf, meanWith, savingsOf, stateKey, worstValue, type ActiveSavings } from './aaq-lazy';
import type { AaqRunState, RankedGroup, RankedOn } from './history';
import { orderRanking, potRankingSubset } from './ranking';
import type { Known, NextEntry, NextInput, RankInput, Ranker, Ranking } from './aaq-context';

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
 * Score every group of `input.current.state` on POT's ranking subset with the active savings.
 * Returned in POT's order; `bound` entries hold an upper bound.
 */
export async function rankGroups(input: RankInput, act: ActiveSavings): Promise<Ranking> {
  const { ctx, s, current: cur, groups, spec } = input;
  const subset = potRankingSubset(input);
  input.onStart?.(subset.length);
  const cmp = comparator(spec.direction);
  const best = bestValue(ctx, spec);
  const sv = savingsOf(s);
  let memo: { key: string; known: Known } | undefined;
  if (act.reuse && input.rolledBack) memo = { key: stateKey(input.rolledBack.state), known: knownOf(s, input.rolledBack) };
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
    input.onGroup?.(out.length, groups.length);
  }
  return { subset, entries: orderRanking(out) };
}

/** A bounded entry with its score finished on the samples lazy_ranking skipped (a new entry). */
async function refine(ctx: AaqContext, s: AaqRunState, on: RankedOn, entry: RankedGroup): Promise<RankedGroup> {
  const spec = ctx.specs.find((m) => m.name === on.metric)!;
  const values: Values = Object.fromEntries(Object.entries(entry.values!).map(([m, v]) => [m, [...v]]));
  const need = values[spec.name].flatMap((v, p) => (v === null ? [p] : []));
  await fill(ctx, revertGroup(on.state, entry.group), on.subset, need, values);
  savingsOf(s).lazy_ranking -= need.length;
  const { bound: _bound, ...rest } = entry;
  return { ...rest, score: comparator(spec.direction)(meanWith(values[spec.name], 0)), values };
}

/** (score, id) of `a` ranks above (score, id) of `b` in POT's order. */
const above = (sa: number, ida: string, sb: number, idb: string) => sa > sb || (sa === sb && ida > idb);

/**
 * POT's next ranking entry (the list head), finishing bounded scores as needed. A bounded head is
 * certain without finishing when even its lowest possible score (skipped samples at their worst)
 * ranks above every other entry's upper bound — always the case for the last entry.
 */
export async function popBest({ ctx, s, on, queue }: NextInput): Promise<NextEntry> {
  const spec = ctx.specs.find((m) => m.name === on.metric)!;
  const finished: NextEntry['finished'] = [];
  let list = orderRanking([...queue]);
  for (;;) {
    const top = list[0];
    if (top.bound) {
      const low = comparator(spec.direction)(meanWith(top.values![spec.name], worstValue(ctx, spec)));
      if (list.slice(1).some((o) => !above(low, top.group.id, o.score, o.group.id))) {
        const done = await refine(ctx, s, on, top);
        finished.push({ group: done.group.id, score: done.score });
        list = orderRanking([done, ...list.slice(1)]);
        continue;
      }
    }
    return { entry: top, rest: list.slice(1), finished };
  }
}

/** reuse_evaluations: the popped entry's candidate values, when the iteration evaluates that very configuration. */
export function knownForIteration(on: RankedOn, entry: RankedGroup, next: QuantState): Known | undefined {
  if (!entry.values || stateKey(revertGroup(on.state, entry.group)) !== stateKey(next)) return undefined;
  const names = Object.keys(entry.values);
  const out: Known = new Map();
  on.subset.forEach((idx, p) => {
    if (names.every((m) => entry.values![m][p] !== null)) out.set(idx, Object.fromEntries(names.map((m) => [m, entry.values![m][p] as number])));
  });
  return out.size ? out : undefined;
}

/** POT's ranking with the active savings; `known` only when full passes may reuse ranking values. */
export function savingRanker(act: ActiveSavings): Ranker {
  return {
    name: 'savings',
    rank: (input) => rankGroups(input, act),
    next: popBest,
    ...(act.reusePasses ? { known: knownForIteration } : {}),
  };
}
