// The resumable run state of AccuracyAwareQuantization and its result/report types. Everything is
// plain JSON: a snapshot is this object, not a network.

import type { AccuracyAwareParams } from '../config/types';
import type { ProgressFn } from '../types';
import type { QuantState } from './backend';
import type { Direction, Metrics } from './drop';
import type { RevertGroup } from '../types';
import type { Guess } from './tuning';

export type AaqStatus = 'met' | 'not-met' | 'max-iter' | 'all-reverted';

export type AaqPhase = 'baseline' | 'quantize' | 'mixed' | 'fp32-subset' | 'tuning' | 'tuning-apply' | 'rank' | 'iterate' | 'done';

/** A fully evaluated state: aggregate metrics and drops on the whole set, per-sample values on `diffSubset`. */
export interface Evaluated {
  state: QuantState;
  metrics: Metrics;
  drop: Metrics;
  /** Per-sample values per metric, aligned with `AaqRunState.diffSubset`. */
  perSample: Record<string, number[]>;
  /**
   * Set while the pass over the data stopped early (early_stop): `perSample` holds 0 at the
   * `missing` samples, `metrics` assumes they all score the best possible value and `drop` is
   * therefore a lower bound. Completed (and removed) as soon as an exact value is needed.
   */
  partial?: PartialEval;
}

export interface PartialEval {
  /** Dataset indices not evaluated yet, in the order they will be (hardest first). */
  missing: number[];
  /** Samples evaluated in total (reused ones included). */
  evaluated: number;
  /** History entry whose metrics this evaluation fills in once complete. */
  historyIndex?: number;
  /** The missing samples were booked as early_stop savings. */
  booked?: boolean;
}

/** Sample inferences avoided compared with POT's schedule, per optimisation. */
export interface Savings {
  reuse_evaluations: number;
  early_stop: number;
  lazy_ranking: number;
}

export interface RevertedGroup {
  group: string;
  ops: string[];
}

export interface HistoryEntry {
  iteration: number;
  /** Seed id of the group reverted in this iteration. */
  group: string;
  ops: string[];
  /** Metric optimised during this iteration. */
  metric: string;
  metrics: Metrics;
  drop: Metrics;
  /** The reverted state was kept (false: rolled back, or the loop's last evaluation was not kept). */
  accepted: boolean;
  rolledBack: boolean;
  /** A new ranking was computed after this iteration. */
  reranked: boolean;
  /** Metric switched to after this iteration (its own drop was within threshold). */
  switchedTo?: string;
  /** early_stop: the pass stopped after this many samples, the decision being certain; `drop`
   *  is then a lower bound (the exact values replace it if the pass is ever completed). */
  partial?: { evaluated: number; of: number };
}

export interface RankingRecord {
  /** 0 = initial ranking on the fully quantized model. */
  afterIteration: number;
  metric: string;
  subsetSize: number;
  /** Dataset indices of the ranking subset (ascending). */
  subset: number[];
  /** As ranked, first to revert first (POT's order); never edited once recorded. `bound`: lazy_ranking
   *  scored this group on part of the subset; `score` is an upper bound of its exact score, which
   *  `AaqRunState.finishedScores` holds if the loop ever needed it (ranker.ts `reportedRankings`). */
  scores: { group: string; score: number; bound?: boolean }[];
}

/** An exact score found after its ranking was recorded (lazy_ranking): group `group` of `rankings[ranking]`. */
export interface FinishedScore {
  ranking: number;
  group: string;
  score: number;
}

/** What a ranking was computed on: the state, its subset (dataset indices), metric and record index. */
export interface RankedOn {
  state: QuantState;
  subset: number[];
  metric: string;
  record: number;
}

export interface TuningRun {
  guess: Guess;
  label: string;
  metrics: Metrics;
  error: number;
}

export interface TuningState {
  /** Hardest-sample subset (dataset indices) the grid is scored on. */
  subset: number[];
  /** Index of the space being run and of the next guess in it. */
  space: number;
  next: number;
  /** Best guess when the current space started (POT appends it to every guess of the space). */
  spaceExtra: Guess;
  ref: Metrics | null;
  runs: TuningRun[];
  /** Best run so far; its state is dropped once applied (tuning-apply). */
  best: { error: number; guess: Guess; state: QuantState | null; run: number } | null;
  /** Set by tuning-apply: the best configuration's full evaluation and whether it was kept. */
  applied?: { metrics: Metrics; drop: Metrics; kept: boolean };
}

export interface LoopState {
  /** Quantized ops when the search started (POT's M in "K out of M"). */
  quantizedOpsTotal: number;
  groupsTotal: number;
  /** Drops of the state the search started from (POT's `original_accuracy_drop`). */
  originalDrop: Metrics;
  metricToOptimize: string;
  accuracyDrop: number;
  isStepBack: boolean;
  /** Remaining ranking, in the ranker's order (ranker.ts); replaced, not edited, as it is walked. */
  ranking: RankedGroup[];
  /** Iterations performed. */
  iteration: number;
  /** Groups reverted in the current state, in order. */
  reverted: RevertedGroup[];
  /** Seed ids of rolled-back groups (excluded from rankings with `exclude_rolled_back`). */
  rolledBack: string[];
  /** The state the current ranking was computed on, its subset (dataset indices) and metric. */
  ranked?: RankedOn;
  /**
   * `accuracyDrop` is the drop of an evaluation that stopped early: 'current' (s.current's) or
   * that evaluation itself (a rolled-back one); finished if a comparison ever needs it exactly.
   */
  accRef?: 'current' | Evaluated;
  /** The last rolled-back evaluation (reuse_evaluations: a candidate of the re-ranking). */
  rolledBackEval?: Evaluated;
}

export type CandidateSource = 'quantized' | 'mixed' | 'tuned' | 'iteration';

/** A fully evaluated state remembered for `return_best`. */
export interface Candidate {
  source: CandidateSource;
  iteration: number;
  key: number;
  met: boolean;
  state: QuantState;
  metrics: Metrics;
  drop: Metrics;
  reverted: RevertedGroup[];
}

export interface AaqRunState {
  version: 1;
  phase: AaqPhase;
  /** The parameters of the run (a resumed run must be given the same). */
  params: AccuracyAwareParams;
  datasetSize: number;
  metrics: { name: string; direction: Direction; baselineValue?: number }[];
  prng: number;
  baseline: Metrics | null;
  thresholds: Metrics | null;
  /** Indices whose per-sample values are kept (POT's diff_subset), ascending. */
  diffSubset: number[];
  fp32PerSample: Record<string, number[]> | null;
  quantized: { metrics: Metrics; drop: Metrics } | null;
  mixed: { metrics: Metrics; drop: Metrics } | null;
  current: Evaluated | null;
  tuning: TuningState | null;
  loop: LoopState | null;
  best: Candidate | null;
  history: HistoryEntry[];
  rankings: RankingRecord[];
  /** Scores finished after their ranking was recorded, in the order they were (append-only). */
  finishedScores: FinishedScore[];
  messages: string[];
  status: AaqStatus | null;
  /** Work avoided by the optimisations (absent in snapshots from before they existed). */
  savings?: Savings;
}

/** One ranked group: the group as derived on the ranked state, and its score (higher = revert first). */
export interface RankedGroup {
  group: RevertGroup;
  score: number;
  /** lazy_ranking: `score` is only an upper bound; the exact score has not been needed yet. */
  bound?: boolean;
  /** The candidate's per-sample values (ranked state minus this group) per metric, aligned with
   *  the ranking subset; null where not evaluated. Kept for reuse_evaluations / lazy_ranking. */
  values?: Record<string, (number | null)[]>;
}

export interface AaqResult {
  state: QuantState;
  baseline: Metrics;
  /** Default quantization (before mixed preset / tuning / the search). */
  quantized: Metrics;
  final: Metrics;
  drop: Metrics;
  thresholds: Metrics;
  metrics: { name: string; direction: Direction; baselineValue?: number }[];
  reverted: RevertedGroup[];
  groupsTotal: number;
  quantizedOpsTotal: number;
  history: HistoryEntry[];
  /** The recorded rankings with their finished scores in place (ranker.ts `reportedRankings`). */
  rankings: RankingRecord[];
  messages: string[];
  status: AaqStatus;
  options: { return_best: boolean; exclude_rolled_back: boolean };
  /** Which evaluated state was returned (the last one, or the best with `return_best`). */
  selected: { source: CandidateSource; iteration: number; best: boolean };
  mixed: { metrics: Metrics; drop: Metrics; applied: boolean } | null;
  tuning: { runs: TuningRun[]; bestRun: number; applied: boolean; metrics: Metrics; drop: Metrics } | null;
  /** Size of the per-sample comparison subset (N, or int(N × metric_subset_ratio) with baseline values). */
  diffSubsetSize: number;
  /** Metrics are agreement@top1 only: relative to the FP32 model, no labels needed. */
  labelFree: boolean;
  /** Sample inferences each optimisation avoided (zeros on POT's schedule). */
  savings: Savings;
}
