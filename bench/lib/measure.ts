// Engine throughput and the cost of evaluating one candidate configuration, per back end. DOM-free
// and Node-free: the same code runs in Node (onnxruntime-node, onnxruntime-web WASM) and in the
// Chromium bench page, on the same model, quantized state and samples.
//
// One FP32 pass over `samples` samples is the unit. A candidate is a ranking candidate (the
// quantized state with one group reverted), a different one every repetition, evaluated through
// OnnxQuantizationBackend.evaluate as AAQ does it:
//  - switchable: on the already open switchable session (its one-off creation reported apart);
//  - session-per-config: build the fake-quant model, create its session, run, release — all timed.
import type { AccuracyAwareParams } from '../../src/core/config/types';
import { OnnxQuantizationBackend } from '../../src/core/evaluation/onnx-backend';
import { revertGroup, type QuantState } from '../../src/core/algorithms/backend';
import type { EvalMode } from '../../src/core/evaluation/eval-mode';
import { runDataset } from '../../src/core/engine/runner';
import { median } from './timing';
import { encodeModel, type ModelProto } from '../../src/core/onnx/proto';
import { EXACT_SESSION_OPTIONS } from '../../src/core/quant/switchable';
import type { Dataset, Engine, MetricName } from '../../src/core/types';

export interface MeasureInput {
  engine: Engine;
  model: ModelProto;
  dataset: Dataset;
  metrics: MetricName[];
  params: AccuracyAwareParams;
  state: QuantState;
  /** Samples per pass (indices cycle through the dataset when it is smaller). */
  samples: number;
  batch: number;
  /** Timed repetitions; medians are reported. */
  reps: number;
  log?: (m: string) => void;
}

export interface MeasureResult {
  samples: number;
  batch: number;
  reps: number;
  /** samples/s of one pass. exact: the options AAQ's FP32 and switchable sessions use (bit-exactness
   *  of "all quantizers off"); limit: the faster of those and the engine's default options. */
  fp32: { limitMs: number; exactMs: number; limitSps: number; exactSps: number };
  switchable: { createMs: number; allOnMs: number; allOnSps: number; candidateMs: number; ratio: number };
  perConfig: { allOnEvalMs: number; allOnSps: number; candidateMs: number; ratio: number };
  /**
   * prefix_cache (AAQ's default in rankings): one ranking over up to 16 groups spread over the
   * list, on the switchable session, each candidate on all the samples. candidateMs = the cost
   * per candidate of a ranking over all the model's groups: (the first candidate, run whole while
   * filling the cache, + (groups − 1) × the mean of the resumed ones) ÷ groups; createMs = the
   * suffix sessions' one-off creation, which `ratio` includes amortised over all the model's
   * groups (one ranking); skipped = share of the network's (estimated) work the resumed
   * candidates skipped.
   */
  prefix: { groups: number; ranked: number; candidateMs: number; createMs: number; ratio: number; skipped: number } | null;
  /** Candidate cost ÷ FP32 (limit) pass − 1 of a ranking candidate with prefix_cache on. */
  ranking_candidate_overhead: number | null;
  /** Candidate cost ÷ FP32 (limit) pass − 1, per mode, and the faster mode. */
  candidate_overhead: Record<EvalMode, number>;
  faster: EvalMode;
  /** What AAQ's 'calibrate' mode measured and chose on this back end (first quantized evaluation). */
  calibrated: { chosen: EvalMode; identical: boolean; candidateMs: Record<EvalMode, number> } | null;
}

/** An in-memory dataset over preprocessed samples (NCHW float32, concatenated). */
export function memoryDataset(x: Float32Array, labels: ArrayLike<number>, sampleShape: number[]): Dataset {
  const len = sampleShape.reduce((a, b) => a * b, 1);
  const n = x.length / len;
  return {
    size: n,
    sampleShape,
    hasLabels: true,
    fingerprint: async () => `memory:${n}`,
    get: async (i: number) => ({ input: x.subarray(i * len, (i + 1) * len), label: Number(labels[i]) }),
  };
}

const now = () => performance.now();

export async function measureBackEnd(m: MeasureInput): Promise<MeasureResult> {
  const log = m.log ?? (() => {});
  const indices = Array.from({ length: m.samples }, (_, i) => i % m.dataset.size);
  const runOpts = { batchSize: m.batch, keepOutputs: false };
  const backend = (mode: 'switchable' | 'session-per-config' | 'calibrate', prefixCache = false) =>
    new OnnxQuantizationBackend({
      engine: m.engine,
      model: m.model,
      dataset: m.dataset,
      metrics: m.metrics,
      placementParams: m.params,
      batchSize: m.batch,
      mode,
      sampleCacheBytes: 0,
      prefixCache,
    });
  const probe = backend('switchable');
  const io = { inputName: probe.inputName, outputName: probe.outputName };
  const groups = probe.groups(m.state);
  const candidate = (k: number) => revertGroup(m.state, groups[((k % groups.length) + groups.length) % groups.length]);

  // Sessions first (warm), then `reps` rounds, each timing every variant back to back, so that
  // load from elsewhere on a shared machine hits all variants alike; ratios are taken per round.
  const exact = EXACT_SESSION_OPTIONS as unknown as Record<string, unknown>;
  const fLimit = await m.engine.createSession(encodeModel(m.model));
  const fExact = await m.engine.createSession(encodeModel(m.model), exact);
  const pass = (s: typeof fLimit) => runDataset(m.engine, s, m.dataset, indices, { ...io, ...runOpts });
  await pass(fLimit);
  await pass(fExact);
  const sw = backend('switchable');
  let t0 = now();
  await sw.evaluate(m.state, indices.slice(0, m.batch));
  const createMs = now() - t0;
  await sw.evaluate(m.state, indices);
  const pc = backend('session-per-config');
  await pc.evaluate(candidate(-1), indices);
  // prefix_cache: a ranking over `ranked` (≤ 16 groups spread over the list)
  const pf = backend('switchable', true);
  await pf.evaluate(m.state, indices);
  const step = Math.max(1, groups.length / 16);
  const ranked = [...new Set(Array.from({ length: Math.min(16, groups.length) }, (_, k) => groups[Math.floor(k * step)]))];
  // A ranking's first candidate runs whole (and fills the cache), the others resume: the cost per
  // candidate of a ranking over all G groups is (first + (G − 1) × mean of the others) / G, with
  // the others' mean taken over the spread sample.
  const rank = async (): Promise<number> => {
    let first = 0;
    let rest = 0;
    for (const [k, g] of (await pf.prepareRanking(m.state, ranked)).entries()) {
      const s0 = now();
      await pf.evaluate(revertGroup(m.state, g), indices);
      if (k === 0) first = now() - s0;
      else rest += now() - s0;
    }
    const G = groups.length;
    return ranked.length > 1 ? (first + ((G - 1) * rest) / (ranked.length - 1)) / G : first;
  };
  await rank();
  const suffixCreateMs = pf.prefixUse?.suffixCreateMs ?? 0;
  const rounds: Record<'limit' | 'exact' | 'swAll' | 'swCand' | 'pcCand' | 'pcAll' | 'rank', number>[] = [];
  // Passes this short (the small models) are timed twice per round and the faster kept: on a shared
  // machine a 60 ms pass is easily doubled by one scheduling hiccup. (Not the per-configuration
  // candidate: its second run would find its session made.)
  t0 = now();
  await pass(fLimit);
  const twice = now() - t0 < 250;
  for (let r = 0; r < m.reps; r++) {
    const t = async (f: () => Promise<unknown>) => ((t0 = now()), await f(), now() - t0);
    const best = async (f: () => Promise<unknown>) => (twice ? Math.min(await t(f), await t(f)) : t(f));
    const limit = await best(() => pass(fLimit));
    const exactMs = await best(() => pass(fExact));
    const swAll = await best(() => sw.evaluate(m.state, indices));
    const swCand = await best(() => sw.evaluate(candidate(r), indices));
    const pcCand = await t(() => pc.evaluate(candidate(r), indices));
    const pcAll = (await pc.evaluate(m.state, indices), await t(() => pc.evaluate(m.state, indices)));
    const rankMs = twice ? Math.min(await rank(), await rank()) : await rank();
    rounds.push({ limit, exact: exactMs, swAll, swCand, pcCand, pcAll, rank: rankMs });
    log(
      `round ${r}: fp32 ${limit.toFixed(0)} (exact ${exactMs.toFixed(0)}) | switchable all-on ${swAll.toFixed(0)}, candidate ${swCand.toFixed(0)} | per-config candidate ${pcCand.toFixed(0)}, all-on eval ${pcAll.toFixed(0)} | ranking candidate, prefix cache ${rankMs.toFixed(0)} ms`,
    );
  }
  const use = pf.prefixUse;
  await pf.dispose();
  await sw.dispose();
  await pc.dispose();
  await m.engine.release(fLimit);
  await m.engine.release(fExact);
  const med = (k: keyof (typeof rounds)[number]) => median(rounds.map((x) => x[k]));
  // The engine's limit: the faster of its FP32 sessions in each round.
  const ratio = (k: 'swCand' | 'pcCand') => median(rounds.map((x) => x[k] / Math.min(x.limit, x.exact)));
  const limitMs = median(rounds.map((x) => Math.min(x.limit, x.exact)));
  const exactMs = med('exact');
  const allOnMs = med('swAll');
  const swCandMs = med('swCand');
  const pcCandMs = med('pcCand');
  const pcAllOnMs = med('pcAll');
  const rankMs = med('rank');
  const prefixCreateMs = suffixCreateMs;
  const prefix = use
    ? {
        groups: groups.length,
        ranked: ranked.length,
        candidateMs: rankMs,
        createMs: prefixCreateMs,
        ratio: median(rounds.map((x) => (x.rank + prefixCreateMs / groups.length) / Math.min(x.limit, x.exact))),
        skipped: use.resumed ? use.skipped / (use.resumed + use.captured) : 0,
      }
    : null;

  // What AAQ's 'calibrate' mode picks here: its calibration on the first quantized evaluation.
  const auto = backend('calibrate');
  await auto.evaluate(m.state, indices);
  const cal = auto.calibration;
  await auto.dispose();

  const sps = (ms: number) => (m.samples * 1000) / ms;
  const swRatio = ratio('swCand');
  const pcRatio = ratio('pcCand');
  const overhead = { switchable: swRatio - 1, 'session-per-config': pcRatio - 1 };
  return {
    samples: m.samples,
    batch: m.batch,
    reps: m.reps,
    fp32: { limitMs, exactMs, limitSps: sps(limitMs), exactSps: sps(exactMs) },
    switchable: { createMs, allOnMs, allOnSps: sps(allOnMs), candidateMs: swCandMs, ratio: swRatio },
    perConfig: { allOnEvalMs: pcAllOnMs, allOnSps: sps(pcAllOnMs), candidateMs: pcCandMs, ratio: pcRatio },
    prefix,
    ranking_candidate_overhead: prefix ? prefix.ratio - 1 : null,
    candidate_overhead: overhead,
    faster: pcRatio < swRatio ? 'session-per-config' : 'switchable',
    calibrated: cal ? { chosen: cal.chosen, identical: !!cal.identical, candidateMs: cal.candidateMs } : null,
  };
}
