// Measuring utilities for choosing, per back end, between evaluating candidate configurations on
// one "switchable" session (feeds change, session stays) and a session per configuration (a
// static QDQ / fake-quant model built and loaded for each candidate). Pure TS, performance.now():
// DOM-free and Node-free, as bench/lib/measure.ts (it runs in Node and in the Chromium bench page).
// Used by the bench and tests/integration/engines-timing.test.ts only (the studio and the CLI
// choose the evaluation mode with src/core/evaluation/eval-mode.ts).

import { runDataset, type RunDatasetOptions } from '../../src/core/engine/runner';
import type { Dataset, Engine, SessionInfo } from '../../src/core/types';

export interface TimingOptions {
  /** Timed repetitions (default 5). */
  repeats?: number;
  /** Untimed runs first (default 1): wasm instantiation, lazy kernels, WebGPU shader compilation. */
  warmup?: number;
  signal?: AbortSignal;
}

export interface TimingStats {
  /** Median of the timed runs, ms. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Every timed run, ms, in order. */
  runsMs: number[];
}

export const now = (): number => performance.now();

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function stats(runsMs: number[]): TimingStats {
  return { medianMs: median(runsMs), minMs: Math.min(...runsMs), maxMs: Math.max(...runsMs), runsMs };
}

/** Times `fn` `repeats` times after `warmup` untimed calls. */
export async function timeIt(fn: () => Promise<unknown> | unknown, opts: TimingOptions = {}): Promise<TimingStats> {
  const repeats = Math.max(1, opts.repeats ?? 5);
  for (let i = 0; i < (opts.warmup ?? 1); i++) {
    opts.signal?.throwIfAborted();
    await fn();
  }
  const runs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    opts.signal?.throwIfAborted();
    const t0 = now();
    await fn();
    runs.push(now() - t0);
  }
  return stats(runs);
}

export interface PassTiming extends TimingStats {
  samples: number;
  batchSize: number;
  /** samples / (medianMs / 1000). */
  samplesPerSec: number;
}

/** (a) One pass of `session` over `dataset[indices]` (the FP32 baseline, or a switchable session
 *  with its configuration in `runOpts.extraFeeds`). Outputs are not kept. */
export async function measurePass(
  engine: Engine,
  session: SessionInfo,
  dataset: Dataset,
  indices: number[],
  runOpts: RunDatasetOptions,
  opts: TimingOptions = {},
): Promise<PassTiming> {
  let batchSize = runOpts.batchSize;
  const t = await timeIt(async () => {
    const r = await runDataset(engine, session, dataset, indices, { ...runOpts, keepOutputs: false, signal: opts.signal });
    batchSize = r.batchSize;
  }, opts);
  return { ...t, samples: indices.length, batchSize, samplesPerSec: indices.length / (t.medianMs / 1000) };
}

/** One candidate evaluated with a session built for it; phases in ms. */
export interface CandidateCost {
  totalMs: number;
  /** Building the model bytes (graph surgery + encode), when measured here. */
  buildMs: number;
  createMs: number;
  evalMs: number;
  releaseMs: number;
}

export interface CandidateCostStats {
  /** Median of each phase and of the total (medians taken separately). */
  median: CandidateCost;
  runs: CandidateCost[];
}

/**
 * (b) Cost of evaluating one candidate configuration in session-per-configuration mode, session
 * creation included: build the model → createSession → evaluate → release, `repeats` times.
 * `build` gets the repetition index (so callers can vary the configuration); `evaluate` runs the
 * subset on the fresh session (typically `runDataset`).
 */
export async function measureSessionPerConfig(
  engine: Engine,
  build: (rep: number) => Promise<Uint8Array> | Uint8Array,
  evaluate: (session: SessionInfo) => Promise<unknown>,
  opts: TimingOptions = {},
): Promise<CandidateCostStats> {
  const one = async (rep: number): Promise<CandidateCost> => {
    opts.signal?.throwIfAborted();
    const t0 = now();
    const bytes = await build(rep);
    const t1 = now();
    const s = await engine.createSession(bytes);
    const t2 = now();
    let t3 = t2;
    try {
      await evaluate(s);
      t3 = now();
    } finally {
      await engine.release(s);
    }
    const t4 = now();
    return { totalMs: t4 - t0, buildMs: t1 - t0, createMs: t2 - t1, evalMs: t3 - t2, releaseMs: t4 - t3 };
  };
  for (let i = 0; i < (opts.warmup ?? 1); i++) await one(-1 - i);
  const runs: CandidateCost[] = [];
  for (let i = 0; i < Math.max(1, opts.repeats ?? 5); i++) runs.push(await one(i));
  const med = (k: keyof CandidateCost) => median(runs.map((r) => r[k]));
  return {
    median: { totalMs: med('totalMs'), buildMs: med('buildMs'), createMs: med('createMs'), evalMs: med('evalMs'), releaseMs: med('releaseMs') },
    runs,
  };
}

/**
 * (b') Cost of evaluating one candidate on an already open switchable session: `evaluate(rep)`
 * sets configuration `rep` (its feeds) and runs the subset. Session creation is a one-off,
 * measured separately (`measureCreate`).
 */
export async function measureSwitchable(evaluate: (rep: number) => Promise<unknown>, opts: TimingOptions = {}): Promise<TimingStats> {
  let rep = 0;
  return timeIt(() => evaluate(rep++), opts);
}

/** Session creation (+ release) time for a model on an engine. */
export async function measureCreate(engine: Engine, model: Uint8Array, opts: TimingOptions = {}): Promise<TimingStats> {
  return timeIt(async () => {
    const s = await engine.createSession(model);
    await engine.release(s);
  }, opts);
}

export type EvalMode = 'switchable' | 'session-per-config';

export interface ModeComparison {
  backend: string;
  fp32Ms: number;
  /** One candidate on the switchable session (no creation). */
  switchableMs: number;
  /** One candidate with its own session (build + create + eval + release). */
  perConfigMs: number;
  /** Relative to one FP32 pass over the same samples. */
  switchableRel: number;
  perConfigRel: number;
  choice: EvalMode;
}

/**
 * Picks the cheaper mode per candidate. The switchable session's one-off creation is amortised
 * over `candidates` (default: ignored, i.e. many candidates).
 */
export function compareEvalModes(
  backend: string,
  fp32Ms: number,
  switchableMs: number,
  perConfigMs: number,
  opts: { switchableCreateMs?: number; candidates?: number } = {},
): ModeComparison {
  const amort = opts.switchableCreateMs && opts.candidates ? opts.switchableCreateMs / opts.candidates : 0;
  const sw = switchableMs + amort;
  return {
    backend,
    fp32Ms,
    switchableMs: sw,
    perConfigMs,
    switchableRel: sw / fp32Ms,
    perConfigRel: perConfigMs / fp32Ms,
    choice: sw <= perConfigMs ? 'switchable' : 'session-per-config',
  };
}

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}
