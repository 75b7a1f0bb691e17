// A whole-run estimate from the pass times measured so far (the Run screen shows it while a run
// goes on). The FP32 baseline pass gives the cost of one sample; the default INT8 pass the cost of
// one quantized sample (1.5 × FP32 until it is measured). What is still to come is counted in those
// units: the statistics subset, the INT8 pass, and — when the INT8 model misses the target — a
// ranking (every group on the ranking subset) and at least one revert iteration (a pass over every
// sample). How many iterations a run needs is only known at its end, so the estimate is a lower
// bound while the search goes on and says what each further iteration adds.

/** What the estimate reads of a stage (LiveRun's StageState). */
export interface StageTimes {
  done: number;
  total: number;
  startedAt: number;
  updatedAt: number;
  finished: boolean;
}

export interface EstimateInput {
  stages: Record<string, StageTimes | undefined>;
  now: number;
  /** When the run started (ms since epoch). */
  startedAt: number;
  /** The batch size: a stage's first progress event comes after its first batch. */
  batch: number;
  aaq: boolean;
  /** The default INT8 model met the target (null: not evaluated yet). */
  defaultMet: boolean | null;
  /** Groups the ranking scores (0: not known yet). */
  groups: number;
  /** Revert iterations done so far. */
  iterations: number;
  statSubsetSize?: number;
  rankingSubsetSize?: number;
}

export interface RunEstimate {
  /** Estimated length of the whole run (ms). */
  totalMs: number;
  /** More may come (revert iterations, or a ranking if the INT8 model misses the target). */
  atLeast: boolean;
  /** One FP32 pass over every sample (ms), as measured. */
  passMs: number;
  samples: number;
  /** What one more revert iteration adds (ms), for an AAQ run that is reverting. */
  perIterationMs?: number;
}

/** Time per unit of a stage from its events (the first event comes after the first batch). */
function rate(s: StageTimes | undefined, now: number, batch: number): number | undefined {
  if (!s || s.done <= 0) return undefined;
  const end = s.finished ? s.updatedAt : now;
  const counted = s.done > batch ? s.done - batch : s.done;
  const ms = end - s.startedAt;
  if (ms <= 0 || counted <= 0) return undefined;
  return ms / counted;
}

/** Units left in a stage: all of `expected` when it has not started. */
function left(s: StageTimes | undefined, expected: number): number {
  if (!s) return expected;
  if (s.finished) return 0;
  return Math.max(0, s.total - s.done);
}

export function estimateRun(x: EstimateInput): RunEstimate | undefined {
  const base = x.stages.baseline;
  const fp32 = rate(base, x.now, x.batch);
  if (!base || fp32 === undefined || base.total <= 0) return undefined;
  // Too early: a couple of batches say little.
  if (!base.finished && x.now - base.startedAt < 1000) return undefined;
  const n = base.total;
  const q = rate(x.stages['quantized-eval'], x.now, x.batch) ?? 1.5 * fp32;
  const stat = x.stages.statistics;
  const statRate = rate(stat, x.now, x.batch) ?? fp32;

  let remaining = left(base, n) * fp32;
  remaining += left(stat, Math.min(n, x.statSubsetSize ?? 300)) * statRate;
  remaining += left(x.stages['quantized-eval'], n) * q;
  let atLeast = false;
  let perIterationMs: number | undefined;

  if (x.aaq) {
    if (x.defaultMet === null) atLeast = true;
    else if (!x.defaultMet) {
      const rankingSamples = Math.min(n, x.rankingSubsetSize ?? 300);
      const ranking = x.stages.ranking;
      const perGroup = rate(ranking, x.now, 0) ?? rankingSamples * q;
      remaining += left(ranking, x.groups) * perGroup;
      perIterationMs = n * q;
      // At least one iteration: the one under way, or the first.
      const it = x.stages.iteration;
      remaining += it && !it.finished ? left(it, n) * q : x.iterations === 0 ? perIterationMs : 0;
      atLeast = true;
    }
  }
  const elapsed = x.now - x.startedAt;
  return { totalMs: elapsed + remaining, atLeast, passMs: fp32 * n, samples: n, ...(perIterationMs !== undefined ? { perIterationMs } : {}) };
}
