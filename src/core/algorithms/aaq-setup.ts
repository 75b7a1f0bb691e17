// AAQ steps before the greedy search (POT `accuracy_aware_common/algorithm.py::run`): baseline, default quantization,
// convert_to_mixed_preset, FP32 per-sample values on the diff subset, tune_hyperparams.

import { allBaselinesGiven, computeThresholds, meanDrop, pickMetrics } from './drop';
import { considerCandidate, emit, evaluateFull, extractPerSample, finish, isMet, rankingSubsetSize, stageProgress, type AaqContext } from './aaq-context';
import type { AaqRunState } from './history';
import { baseParams, isPresetPerformance, mixedPresetParams } from './params';
import { sampleSorted } from './prng';
import { hardestSubset } from './ranking';
import { applyGuess, describeGuess, errorReference, gridError, gridSpaces } from './tuning';

function fmt(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

/** Step 1–2: baseline metrics (FP32 on the whole set, or the given baseline values) and thresholds. */
export async function stepBaseline(ctx: AaqContext, s: AaqRunState): Promise<void> {
  const n = ctx.backend.datasetSize;
  const all = Array.from({ length: n }, (_, i) => i);
  if (allBaselinesGiven(ctx.specs) && !ctx.params.annotation_free) {
    // POT: FP32 is not evaluated up front; per-sample comparisons use a random subset.
    s.baseline = Object.fromEntries(ctx.specs.map((m) => [m.name, m.baselineValue!]));
    const k = Math.floor(n * ctx.params.metric_subset_ratio);
    if (k < n) {
      const r = sampleSorted(n, Math.max(1, k), s.prng);
      s.diffSubset = r.indices;
      s.prng = r.state;
    } else {
      s.diffSubset = all;
    }
  } else {
    ctx.log('Start original model inference');
    const ev = await ctx.backend.evaluate(null, null, stageProgress(ctx, 'baseline'));
    s.baseline = pickMetrics(ctx.specs, ev.metrics);
    s.diffSubset = all;
    s.fp32PerSample = extractPerSample(ev, ctx.specs, all);
  }
  s.thresholds = computeThresholds(ctx.specs, s.baseline, ctx.params);
  ctx.log(`Baseline metrics: ${fmt(s.baseline)}`);
  emit(ctx, 'baseline', 1, 1, 'baseline', { baseline: s.baseline });
  s.phase = 'quantize';
}

/** Step 3–4: DefaultQuantization from FP32, full evaluation, stop test. */
export async function stepQuantize(ctx: AaqContext, s: AaqRunState): Promise<void> {
  ctx.log('Start quantization');
  const state = await ctx.backend.quantize(baseParams(ctx.params), ctx.progress);
  const ev = await evaluateFull(ctx, s, state, 'quantized-eval');
  s.current = ev;
  s.quantized = { metrics: ev.metrics, drop: ev.drop };
  considerCandidate(ctx, s, 'quantized', 0, ev, []);
  ctx.log(`Fully quantized metrics: ${fmt(ev.metrics)}; accuracy drop: ${fmt(ev.drop)}`);
  emit(ctx, 'quantized-eval', 1, 1, 'quantized', s.quantized);
  if (isMet(ctx, s, ev.drop)) return finish(ctx, s, 'met');
  s.phase = 'mixed';
}

/** Step 5: re-quantize from scratch with the mixed preset (only from performance); it replaces the model. */
export async function stepMixed(ctx: AaqContext, s: AaqRunState): Promise<void> {
  s.phase = 'fp32-subset';
  const base = baseParams(ctx.params);
  if (!ctx.params.convert_to_mixed_preset || !isPresetPerformance(base)) return;
  ctx.log('Start quantization in mixed mode');
  const state = await ctx.backend.quantize(mixedPresetParams(base), ctx.progress);
  const ev = await evaluateFull(ctx, s, state, 'mixed-preset');
  s.current = ev;
  s.mixed = { metrics: ev.metrics, drop: ev.drop };
  considerCandidate(ctx, s, 'mixed', 0, ev, []);
  ctx.log(`Mixed preset metrics: ${fmt(ev.metrics)}; accuracy drop: ${fmt(ev.drop)}`);
  emit(ctx, 'mixed-preset', 1, 1, 'mixed preset', s.mixed);
  if (isMet(ctx, s, ev.drop)) finish(ctx, s, 'met');
}

/** Step 6: FP32 per-sample values on the diff subset, if the baseline was given. */
export async function stepFp32Subset(ctx: AaqContext, s: AaqRunState): Promise<void> {
  if (!s.fp32PerSample) {
    const ev = await ctx.backend.evaluate(null, s.diffSubset, stageProgress(ctx, 'baseline'));
    s.fp32PerSample = extractPerSample(ev, ctx.specs, s.diffSubset);
  }
  s.phase = 'tuning';
}

/** Step 7 (tune_hyperparams): one grid run per step. */
export async function stepTuning(ctx: AaqContext, s: AaqRunState): Promise<void> {
  if (!ctx.params.tune_hyperparams) {
    s.phase = 'rank';
    return;
  }
  const cur = s.current!;
  if (!s.tuning) {
    const subset = hardestSubset(ctx.specs, s.fp32PerSample!, cur.perSample, s.diffSubset, rankingSubsetSize(ctx));
    s.tuning = { subset, space: 0, next: 0, spaceExtra: [], ref: null, runs: [], best: null };
    ctx.log('Start parameters grid search');
  }
  const t = s.tuning;
  const spaces = gridSpaces();
  const guess = [...spaces[t.space][t.next], ...t.spaceExtra];
  const state = await ctx.backend.quantize(applyGuess(cur.state.params, guess), ctx.progress);
  const ev = await ctx.backend.evaluate(state, t.subset, stageProgress(ctx, 'tuning'));
  const metrics = pickMetrics(ctx.specs, ev.metrics);
  const error = gridError(ctx.specs, metrics, t.ref);
  if (!t.ref) t.ref = errorReference(ctx.specs, metrics);
  const run = t.runs.length;
  t.runs.push({ guess, label: describeGuess(guess), metrics, error });
  if (!t.best || error < t.best.error) t.best = { error, guess, state, run };
  const total = spaces.reduce((a, sp) => a + sp.length, 0);
  emit(ctx, 'tuning', t.runs.length, total, describeGuess(guess), { metrics, error });
  t.next += 1;
  if (t.next >= spaces[t.space].length) {
    t.space += 1;
    t.next = 0;
    t.spaceExtra = t.best.guess;
  }
  if (t.space >= spaces.length) s.phase = 'tuning-apply';
}

/** Step 7 (end): full evaluation of the best configuration; kept only if the mean drop improves. */
export async function stepTuningApply(ctx: AaqContext, s: AaqRunState): Promise<void> {
  const t = s.tuning!;
  const best = t.best!;
  const ev = await evaluateFull(ctx, s, best.state!, 'tuning');
  const kept = meanDrop(ctx.specs, ev.drop) < meanDrop(ctx.specs, s.current!.drop);
  considerCandidate(ctx, s, 'tuned', 0, ev, []);
  if (kept) {
    ctx.log('Applying the best configuration');
    s.current = ev;
  }
  t.applied = { metrics: ev.metrics, drop: ev.drop, kept };
  best.state = null;
  emit(ctx, 'tuning', t.runs.length, t.runs.length, kept ? 'tuned configuration applied' : 'tuned configuration not better', t.applied);
  if (isMet(ctx, s, s.current!.drop)) return finish(ctx, s, 'met');
  s.phase = 'rank';
}
