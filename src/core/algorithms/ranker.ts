// The ranker contract of the AAQ loop. NNCF's accuracy_control splits ranking in two: ranker.py
// (which groups, on which samples, in what order the loop takes them) and rank_functions.py (how
// one candidate is scored). Here the loop (aaq-loop.ts) only talks to a `Ranker`: `rank` ranks the
// groups of the current state, `next` hands over the group to revert next. Implementations:
//  - POT's ranking, every group scored on the ranking subset (ranking.ts, `potRanker`);
//  - the same ranking with the work savings reuse_evaluations / lazy_ranking (ranking-lazy.ts).
//
// Rankings are data. `rank` returns a new ranking; `next` returns the rest of the list and the
// scores it finished on the way as new values, never editing what it was given. The loop records a
// ranking once (`AaqRunState.rankings`, never edited afterwards) and finished scores beside it
// (`AaqRunState.finishedScores`); `reportedRankings` combines both for the report.
//
// A ranker is rebuilt for every step (the run state is JSON between steps, accuracy-aware.ts), so
// whatever it needs to carry from `rank` to `next` lives in the ranking's entries (e.g. `values`).

import type { AaqContext, Ranker, Ranking } from './aaq-context';
import { activeSavings, type ActiveSavings } from './aaq-lazy';
import type { AaqRunState, RankingRecord } from './history';
import { potRanker } from './ranking';
import { savingRanker } from './ranking-lazy';

// The contract's types live beside AaqContext (aaq-context.ts), which refers to them: one file, so
// that the types do not import each other in a cycle.
export type { AaqOptions, NextEntry, NextInput, RankInput, Ranker, RankerFactory, Ranking } from './aaq-context';

/**
 * Ranking strategies, the first that applies wins. Adding one: a file implementing `Ranker` and a
 * line here, selected by the existing parameters and the savings the backend allows (aaq-lazy.ts).
 */
const STRATEGIES: { applies: (act: ActiveSavings, ctx: AaqContext) => boolean; create: (act: ActiveSavings) => Ranker }[] = [
  { applies: (act) => act.reuse || act.lazyRanking, create: savingRanker },
  { applies: () => true, create: () => potRanker },
];

/** The ranker of this run: the one given in the options (`AaqOptions.ranker`), else by strategy. */
export function createRanker(ctx: AaqContext, s: AaqRunState): Ranker {
  if (ctx.ranker) return ctx.ranker(ctx, s);
  const act = activeSavings(ctx, s);
  return STRATEGIES.find((x) => x.applies(act, ctx))!.create(act);
}

/** The record of a ranking as the loop keeps it (a copy: nothing shared with the ranker's list). */
export function recordOf(afterIteration: number, metric: string, ranking: Ranking): RankingRecord {
  return {
    afterIteration,
    metric,
    subsetSize: ranking.subset.length,
    subset: [...ranking.subset],
    scores: ranking.entries.map((r) => ({ group: r.group.id, score: r.score, ...(r.bound ? { bound: true } : {}) })),
  };
}

/**
 * The rankings as the report shows them: each recorded ranking with the scores finished later in
 * place of its bounds, re-sorted in POT's order (score, then group id, both descending). New
 * objects; the recorded ones are left as they are.
 */
export function reportedRankings(s: Pick<AaqRunState, 'rankings' | 'finishedScores'>): RankingRecord[] {
  const done = new Map<number, Map<string, number>>();
  for (const f of s.finishedScores ?? []) {
    if (!done.has(f.ranking)) done.set(f.ranking, new Map());
    done.get(f.ranking)!.set(f.group, f.score);
  }
  return s.rankings.map((rec, i) => {
    const fin = done.get(i);
    const scores = rec.scores.map((row) => {
      const score = fin?.get(row.group);
      return score === undefined ? { ...row } : { group: row.group, score };
    });
    if (fin) scores.sort((a, b) => b.score - a.score || (a.group < b.group ? 1 : a.group > b.group ? -1 : 0));
    return { ...rec, subset: [...rec.subset], scores };
  });
}
