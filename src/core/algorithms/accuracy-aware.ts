// AccuracyAwareQuantization (POT AccuracyAwareCommon) as a resumable state machine.
//
// The run is a sequence of steps (baseline, quantized eval, mixed preset, FP32 subset, each
// tuning run, tuning apply, each ranking, each iteration). After every step the whole run state —
// plain JSON, see `AaqRunState` — goes to `checkpoint`; `runAccuracyAware(..., {resumeFrom})`
// continues from any such state and ends with the same result as an uninterrupted run. Every
// step starts from a JSON copy of the state, so an uninterrupted run and a resumed one see
// byte-identical inputs.

import type { AccuracyAwareParams } from '../config/types';
import { QuantizeError } from '../types';
import { withRevertMode, type QuantizationBackend } from './backend';
import { isLabelFree, resolveMetrics, type MetricSpec } from './drop';
import { emit, selectReturned, type AaqContext, type AaqOptions } from './aaq-context';
import { stepIterate, stepRank } from './aaq-loop';
import { reportedRankings } from './ranker';
import { stepBaseline, stepFp32Subset, stepMixed, stepQuantize, stepTuning, stepTuningApply } from './aaq-setup';
import type { AaqPhase, AaqResult, AaqRunState } from './history';
import { clone, stableStringify } from './params';
import { seedState } from './prng';

export type { AaqOptions } from './aaq-context';
export type { AaqResult, AaqRunState } from './history';

const STEPS: Record<Exclude<AaqPhase, 'done'>, (ctx: AaqContext, s: AaqRunState) => Promise<void>> = {
  baseline: stepBaseline,
  quantize: stepQuantize,
  mixed: stepMixed,
  'fp32-subset': stepFp32Subset,
  tuning: stepTuning,
  'tuning-apply': stepTuningApply,
  rank: stepRank,
  iterate: stepIterate,
};

/** A fresh run state (phase `baseline`). */
export function initialRunState(backend: QuantizationBackend, params: AccuracyAwareParams): AaqRunState {
  const specs = resolveMetrics(backend.metricDefs(), params.metrics);
  return {
    version: 1,
    phase: 'baseline',
    params: clone(params),
    datasetSize: backend.datasetSize,
    metrics: specs,
    prng: seedState(params.seed),
    baseline: null,
    thresholds: null,
    diffSubset: [],
    fp32PerSample: null,
    quantized: null,
    mixed: null,
    current: null,
    tuning: null,
    loop: null,
    best: null,
    history: [],
    rankings: [],
    finishedScores: [],
    messages: [],
    status: null,
    savings: { reuse_evaluations: 0, early_stop: 0, lazy_ranking: 0 },
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkResumable(state: AaqRunState, backend: QuantizationBackend, params: AccuracyAwareParams, specs: MetricSpec[]): void {
  if (!isObj(state)) throw new QuantizeError('the snapshot is not an AAQ run state', { expected: 'a run state written by AAQ Studio' });
  if (state.version !== 1) throw new QuantizeError(`unsupported AAQ snapshot version ${String(state.version)}`, { expected: '1' });
  // The shape every step relies on (a damaged or hand-edited snapshot is refused, not run).
  const shapeOk =
    (state.phase === 'done' || Object.prototype.hasOwnProperty.call(STEPS, state.phase)) &&
    typeof state.prng === 'number' &&
    isObj(state.params) &&
    [state.history, state.rankings, state.finishedScores, state.messages, state.diffSubset, state.metrics].every(Array.isArray) &&
    [state.current, state.loop, state.tuning, state.best, state.baseline, state.thresholds, state.quantized, state.mixed, state.fp32PerSample].every((v) => v === null || isObj(v));
  if (!shapeOk) throw new QuantizeError('the snapshot is damaged: its run state lacks fields or has fields of the wrong type', { expected: 'a run state written by AAQ Studio' });
  if (state.datasetSize !== backend.datasetSize) {
    throw new QuantizeError(`the snapshot was taken on ${state.datasetSize} validation samples, the data has ${backend.datasetSize}`, {
      expected: 'the data of the interrupted run',
    });
  }
  if (stableStringify(state.params) !== stableStringify(params)) {
    throw new QuantizeError('the snapshot was taken with different AccuracyAwareQuantization parameters', { field: 'params', expected: 'the parameters of the interrupted run' });
  }
  if (stableStringify(state.metrics) !== stableStringify(specs)) {
    throw new QuantizeError('the snapshot was taken with different metrics', { field: 'metrics', expected: 'the metrics of the interrupted run' });
  }
}

/** Throws a QuantizeError unless `state` is a run state that `runAccuracyAware(backend, params,
 *  { resumeFrom: state })` can continue (version, shape, data size, parameters, metrics). */
export function assertResumable(state: unknown, backend: QuantizationBackend, params: AccuracyAwareParams): asserts state is AaqRunState {
  checkResumable(state as AaqRunState, backend, params, resolveMetrics(backend.metricDefs(), params.metrics));
}

/**
 * Run AccuracyAwareQuantization (or continue a checkpointed run). Never throws because the target
 * was missed: the result's `status` and `messages` say so, as POT does.
 */
export async function runAccuracyAware(backend: QuantizationBackend, params: AccuracyAwareParams, opts: AaqOptions = {}): Promise<AaqResult> {
  const specs = resolveMetrics(backend.metricDefs(), params.metrics);
  const ctx: AaqContext = { backend: withRevertMode(backend, params.revert_mode), params, specs, progress: opts.progress, log: opts.log ?? (() => {}), ranker: opts.ranker };
  let text: string;
  if (opts.resumeFrom) {
    checkResumable(opts.resumeFrom, backend, params, specs);
    text = JSON.stringify(opts.resumeFrom);
  } else {
    text = JSON.stringify(initialRunState(backend, params));
  }
  for (;;) {
    const s = JSON.parse(text) as AaqRunState;
    if (s.phase === 'done') {
      emit(ctx, 'done', 1, 1, s.status ?? undefined);
      return buildResult(ctx, s);
    }
    await STEPS[s.phase](ctx, s);
    text = JSON.stringify(s);
    if (opts.checkpoint) await opts.checkpoint(JSON.parse(text) as AaqRunState);
  }
}

/** The result of a finished run state. */
export function buildResult(ctx: AaqContext, s: AaqRunState): AaqResult {
  if (s.phase !== 'done' || !s.status || !s.current || !s.baseline || !s.thresholds || !s.quantized) {
    throw new Error('buildResult needs a finished run state');
  }
  const sel = selectReturned(ctx, s);
  const t = s.tuning;
  return {
    state: sel.state,
    baseline: s.baseline,
    quantized: s.quantized.metrics,
    final: sel.metrics,
    drop: sel.drop,
    thresholds: s.thresholds,
    metrics: s.metrics,
    reverted: sel.reverted,
    groupsTotal: s.loop?.groupsTotal ?? ctx.backend.groups(sel.state).length,
    quantizedOpsTotal: s.loop?.quantizedOpsTotal ?? ctx.backend.quantizedOps(sel.state).length,
    history: s.history,
    rankings: reportedRankings(s),
    messages: s.messages,
    status: s.status,
    options: { return_best: ctx.params.return_best, exclude_rolled_back: ctx.params.exclude_rolled_back },
    selected: { source: sel.source, iteration: sel.iteration, best: sel.best },
    mixed: s.mixed ? { ...s.mixed, applied: true } : null,
    tuning: t && t.applied && t.best ? { runs: t.runs, bestRun: t.best.run, applied: t.applied.kept, metrics: t.applied.metrics, drop: t.applied.drop } : null,
    diffSubsetSize: s.diffSubset.length,
    labelFree: isLabelFree(ctx.specs),
    savings: s.savings ?? { reuse_evaluations: 0, early_stop: 0, lazy_ranking: 0 },
  };
}
