// DefaultQuantization over a real ONNX model: the statistics pass (watched activations reduced to
// per-sample statistics inside the statistics model, inplace-stats.ts, or in JS from the exposed
// tensors, calibration.ts), the quantizer grids from POT's range estimators, Concat unification
// and FastBiasCorrection. Evaluation of the resulting states lives in src/core/evaluation/
// (onnx-backend.ts composes the two).
import type { DefaultQuantizationParams } from '../config/types';
import type { QuantState, StoredQuantizer } from '../algorithms/backend';
import type { Evaluator } from '../engine/runner';
import type { GraphIndex } from '../onnx/graph';
import { encodeModel, type ModelProto } from '../onnx/proto';
import { readTensor, toFloat32 } from '../onnx/tensor';
import { QuantizeError, type Dataset, type Engine, type ProgressFn, type QuantizerParams, type QuantizerSpec, type SessionInfo, type TensorData } from '../types';
import { fastBiasCorrection } from './bias-correction';
import { CalibrationStats, statisticsModel, type WatchRequest } from './calibration';
import { addReducedBatch, inGraphStatistics, watchedBytes } from './inplace-stats';
import { activationEstimator, aggregateEstimator, sampleStatsFor, weightEstimator } from './estimators';
import type { GroupFinder } from './groups';
import { analyzePlacement, type Placement } from './placement';
import { activationParams, fakeQuantize, unifyParams, weightParams } from './ranges';
import type { SampleStat } from './statistics';
import { toStored } from './stored';

/** The statistics tune_hyperparams' grid needs beyond the preset's (tuning.ts). */
const TUNING_STATS: SampleStat[] = [
  { type: 'min' },
  { type: 'max' },
  { type: 'abs_max' },
  ...[1e-3, 1e-4].flatMap((p): SampleStat[] => [
    { type: 'quantile', q: p },
    { type: 'quantile', q: 1 - p },
    { type: 'abs_quantile', q: 1 - p },
  ]),
];

export interface OnnxQuantizerContext {
  engine: Engine;
  model: ModelProto;
  dataset: Dataset;
  idx: GraphIndex;
  placement: Placement;
  finder: GroupFinder;
  evaluator: Evaluator;
  inputName: string;
  outputName: string;
  batchSize: number;
  /** Also collect the statistics tune_hyperparams' grid needs, in the same pass. */
  tuningStats: boolean;
  /** How the statistics pass reduces the watched tensors: inside the graph (default; only the
   *  per-sample statistics leave the session, inplace-stats.ts) or in JS over the whole tensors
   *  (the reference implementation, statistics.ts). Both give the same statistics. */
  statistics?: 'in-graph' | 'js';
  /** Bytes the watched activations of one statistics batch may take (undefined: batches of
   *  `batchSize`); see statisticsPass. */
  statisticsBytes?: number;
  /** Adds a phase's wall time to the run's timings. */
  time<T>(phase: string, p: Promise<T>): Promise<T>;
  timings: Record<string, number>;
}

export class OnnxQuantizer {
  private readonly specs = new Map<string, QuantizerSpec>();
  private readonly calib: CalibrationStats[] = [];
  /** Statistics passes run in the graph and in JS; the tensors the JS path redid after an in-graph
   *  pass; the errors that ended an in-graph pass (the JS path then did it all). */
  readonly statisticsLog = {
    inGraph: 0,
    js: 0,
    redone: [] as string[],
    failed: [] as string[],
    batch: undefined as number | undefined,
    sampleBytes: undefined as number | undefined,
  };

  constructor(private readonly c: OnnxQuantizerContext) {
    for (const q of c.placement.quantizers) this.specs.set(q.id, q);
  }

  /** Calibration sample indices: the first stat_subset_size (or a seeded shuffle). */
  calibrationIndices(params: DefaultQuantizationParams): number[] {
    const size = this.c.dataset.size;
    const n = Math.min(params.stat_subset_size, size);
    const all = Array.from({ length: size }, (_, i) => i);
    if (params.shuffle_data) {
      let s = params.seed >>> 0 || 1;
      for (let i = all.length - 1; i > 0; i--) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const j = s % (i + 1);
        [all[i], all[j]] = [all[j], all[i]];
      }
      return all.slice(0, n).sort((a, b) => a - b);
    }
    return all.slice(0, n);
  }

  private fbcNodes(): { node: string; input: string; output: string; axis: number }[] {
    const { idx, placement } = this.c;
    const out: { node: string; input: string; output: string; axis: number }[] = [];
    for (const q of placement.quantizers) {
      if (q.kind !== 'weight') continue;
      for (const c of q.consumers) {
        const n = idx.nodes[idx.nodeByName.get(c.node)!];
        if ((n.opType === 'Conv' || n.opType === 'Gemm') && n.input?.[2] && idx.isConstant(n.input[2])) {
          out.push({ node: c.node, input: n.input[0], output: n.output![0], axis: 1 });
        }
      }
    }
    return out;
  }

  private watchRequests(paramsList: DefaultQuantizationParams[]): WatchRequest[] {
    const req = new Map<string, WatchRequest>();
    const add = (tensor: string, stats: SampleStat[]) => {
      const r = req.get(tensor) ?? { tensor, granularity: 'pertensor' as const, channelAxis: 1, stats: [] };
      r.stats.push(...stats);
      req.set(tensor, r);
    };
    for (const params of paramsList) {
      for (const q of this.c.placement.quantizers) {
        if (q.kind !== 'activation') continue;
        for (const mode of ['symmetric', 'asymmetric'] as const) {
          const est = activationEstimator(params, q.granularity, mode);
          add(
            q.tensor,
            sampleStatsFor(est).map((s) => ({ ...s, granularity: s.granularity ?? q.granularity, axis: 1 })),
          );
        }
        if (this.c.tuningStats)
          add(
            q.tensor,
            TUNING_STATS.map((s) => ({ ...s, granularity: q.granularity, axis: 1 })),
          );
      }
    }
    for (const f of this.fbcNodes()) {
      add(f.input, [{ type: 'mean', granularity: 'perchannel', axis: 1 }]);
      add(f.output, [{ type: 'mean', granularity: 'perchannel', axis: 1 }]);
    }
    return [...req.values()];
  }

  private findCollector(tensor: string, stats: SampleStat[]) {
    for (const c of this.calib) {
      const col = c.collectors.get(tensor);
      if (!col) continue;
      try {
        for (const s of stats) col.values(s);
        return { col, shape: c.shapes.get(tensor) ?? [] };
      } catch {
        /* not in this pass */
      }
    }
    return undefined;
  }

  /** Runs a statistics pass if the statistics `params` needs are not collected yet. */
  async ensureStatistics(params: DefaultQuantizationParams, progress?: ProgressFn): Promise<void> {
    const requests = this.watchRequests([params]).filter((r) => !this.findCollector(r.tensor, r.stats));
    if (!requests.length) return;
    const { engine } = this.c;
    const log = this.statisticsLog;
    const failed = (e: unknown) => {
      if (e instanceof QuantizeError) throw e;
      log.failed.push(e instanceof Error ? e.message : String(e));
      return undefined;
    };
    const indices = this.calibrationIndices(params);
    const stats = new CalibrationStats(requests);
    let redo: string[] | undefined;
    const plan = this.c.statistics === 'js' ? undefined : inGraphStatistics(this.c.model, stats);
    // an engine that cannot load or run the reductions (a kernel it lacks, a rank-0 tensor the
    // Reshape views do not fit) gets the JS path for every tensor
    const session = plan && (await engine.createSession(encodeModel(plan.model)).catch(failed));
    if (plan && session) {
      const flagged = new Set<string>();
      const done = await this.statisticsPass(
        session,
        plan.fetch,
        indices,
        (all) => addReducedBatch(plan, all, stats, flagged),
        (all) => watchedBytes(plan, all),
        progress,
      ).then(() => true, failed);
      if (done) {
        log.inGraph++;
        redo = [...flagged];
        log.redone.push(...redo);
      }
    }
    const jsTensors = redo ?? stats.tensors;
    if (jsTensors.length) {
      // the JS path: all tensors, or those the graph's reductions cannot stand for (a NaN in a sample, rank < 2)
      const js = new CalibrationStats(requests.filter((r) => jsTensors.includes(r.tensor)));
      const jsSession = await engine.createSession(encodeModel(statisticsModel(this.c.model, js.tensors)));
      await this.statisticsPass(
        jsSession,
        js.tensors,
        indices,
        (all) => {
          for (const t of js.tensors) if (all[t]) js.add(t, all[t].data as Float32Array, all[t].dims);
        },
        (all) => js.tensors.reduce((sum, t) => sum + (all[t] ? all[t].data.length * 4 : 0), 0),
        progress,
      );
      log.js++;
      for (const t of jsTensors) {
        stats.collectors.set(t, js.collectors.get(t)!);
        const shape = js.shapes.get(t);
        if (shape) stats.shapes.set(t, shape);
        else stats.shapes.delete(t);
      }
    }
    this.calib.push(stats);
  }

  /**
   * Runs a statistics session over the calibration samples (and releases it); `onBatch` gets every
   * fetched output. With a `statisticsBytes` budget the first sample runs alone and tells what one
   * sample's watched activations take (`sampleBytes` of its outputs); the other samples then run in
   * batches of at most the run's batch size that keep those activations within the budget (a
   * 224-pixel MobileNetV2 watches about 50 MiB a sample: batches of 16 held 800 MB at once).
   * Every statistic is per sample, so the batching does not change them.
   */
  private async statisticsPass(
    session: SessionInfo,
    fetch: string[],
    indices: number[],
    onBatch: (all: Record<string, TensorData>) => void,
    sampleBytes: (all: Record<string, TensorData>) => number,
    progress?: ProgressFn,
  ): Promise<void> {
    const budget = this.c.statisticsBytes;
    const sized = budget !== undefined && budget > 0 && indices.length > 1 && this.c.batchSize > 1;
    let batch = this.c.batchSize;
    const run = (part: number[], batchSize: number, offset: number, first: boolean) =>
      this.c.evaluator.run(session, this.c.dataset, part, {
        inputName: this.c.inputName,
        outputName: this.c.outputName,
        extraOutputs: fetch,
        batchSize,
        keepOutputs: false,
        onBatch: (_i, _o, all) => {
          if (first) {
            this.statisticsLog.sampleBytes = sampleBytes(all);
            batch = statisticsBatch(this.statisticsLog.sampleBytes, budget!, this.c.batchSize);
          }
          onBatch(all);
        },
        progress: progress && ((d) => progress({ stage: 'statistics', done: offset + d, total: indices.length })),
      });
    try {
      await this.c.time(
        'statistics',
        (async () => {
          if (!sized) return void (await run(indices, batch, 0, false));
          await run(indices.slice(0, 1), 1, 0, true);
          this.statisticsLog.batch = batch;
          await run(indices.slice(1), batch, 1, false);
        })(),
      );
    } finally {
      await this.c.engine.release(session);
    }
  }

  /** DefaultQuantization's state for `params`: grids of every quantizer and the corrected biases. */
  async quantize(params: DefaultQuantizationParams, progress?: ProgressFn): Promise<QuantState> {
    await this.ensureStatistics(params, progress);
    const t0 = performance.now();
    const { idx } = this.c;
    const placement = analyzePlacement(idx, params);
    const grids = new Map<string, QuantizerParams>();
    const unified = new Map<string, string[]>();
    for (const q of placement.quantizers) {
      if (!this.specs.has(q.id)) continue; // placement is fixed by the session layout
      if (q.kind === 'activation') {
        const est = activationEstimator(params, q.granularity, q.mode);
        const found = this.findCollector(
          q.tensor,
          sampleStatsFor(est).map((s) => ({ ...s, granularity: s.granularity ?? q.granularity, axis: 1 })),
        );
        if (!found) throw new QuantizeError(`no statistics for tensor '${q.tensor}'`);
        const agg = aggregateEstimator({ aggregate: (s, a) => found.col.aggregate({ ...s, granularity: s.granularity ?? q.granularity, axis: 1 }, a) }, est);
        grids.set(q.id, activationParams(q.mode, agg, { levels: q.levels, clipMin: est.min.clipping_value, clipMax: est.max.clipping_value }));
        if (q.unifiedKey) unified.set(q.unifiedKey, [...(unified.get(q.unifiedKey) ?? []), q.id]);
      } else {
        const w = toFloat32(readTensor(idx.initializers.get(q.tensor)!));
        const dims = (idx.initializers.get(q.tensor)!.dims ?? []).map(Number);
        grids.set(q.id, weightParams(q.mode, w, dims, q.axis ?? 0, { levels: q.levels, estimator: weightEstimator(params, q.mode) }));
      }
    }
    for (const [, ids] of unified) {
      const mode = placement.quantizers.find((q) => q.id === ids[0])!.mode;
      const u = unifyParams(
        ids.map((id) => grids.get(id)!),
        mode,
      );
      for (const id of ids) grids.set(id, u);
    }
    for (const q of placement.quantizers) if (q.within && grids.has(q.id)) grids.set(q.id, keepWithin(grids.get(q.id)!, q.within));
    const biases = params.bias_correction ? this.biasCorrections(grids) : {};
    const quantizers: Record<string, StoredQuantizer> = {};
    for (const [id, g] of grids) quantizers[id] = toStored(g);
    this.c.timings.quantize = (this.c.timings.quantize ?? 0) + performance.now() - t0;
    return { params, enabled: [...grids.keys()], quantizers, biases };
  }

  private biasCorrections(grids: Map<string, QuantizerParams>): Record<string, number[]> {
    const { idx, placement } = this.c;
    const out: Record<string, number[]> = {};
    for (const f of this.fbcNodes()) {
      const n = idx.nodes[idx.nodeByName.get(f.node)!];
      const wq = placement.quantizers.find((q) => q.kind === 'weight' && q.consumers.some((c) => c.node === f.node));
      if (!wq || !grids.has(wq.id)) continue;
      const inMean = this.findCollector(f.input, [{ type: 'mean', granularity: 'perchannel', axis: 1 }]);
      const outMean = this.findCollector(f.output, [{ type: 'mean', granularity: 'perchannel', axis: 1 }]);
      if (!inMean || !outMean) continue;
      const winit = idx.initializers.get(wq.tensor)!;
      const dims = (winit.dims ?? []).map(Number);
      const wfq = fakeQuantize(toFloat32(readTensor(winit)), dims, grids.get(wq.id)!, wq.axis ?? 0);
      const aq = this.inputQuantizer(f.node);
      const r = fastBiasCorrection({
        node: n,
        weights: wfq,
        weightDims: dims,
        bias: toFloat32(readTensor(idx.initializers.get(n.input![2])!)),
        inputMean: inMean.col.aggregate({ type: 'mean', granularity: 'perchannel', axis: 1 }, 'mean'),
        inputSpatial: inMean.shape.slice(1),
        outputMean: outMean.col.aggregate({ type: 'mean', granularity: 'perchannel', axis: 1 }, 'mean'),
        inputQuantizer: aq ? grids.get(aq) : undefined,
      });
      if (r.applied) out[f.node] = Array.from(r.bias);
    }
    return out;
  }

  /** The activation quantizer on input 0 of `node` (directly or above agnostic ops). */
  private inputQuantizer(node: string): string | undefined {
    return this.c.placement.quantizers.find((q) => q.kind === 'activation' && this.c.finder.feedsInput(q.id, node, 0))?.id;
  }
}

/**
 * The grid with each channel's range `scale·(qmin − zp) … scale·(qmax − zp)`, computed in float32
 * as onnxruntime's ClipQuantFusion does, inside `[lo, hi]` (the scale lowered by ulps where the
 * rounding put the top level past `hi`), so the Clip the quantizer absorbs is redundant.
 */
export function keepWithin(p: QuantizerParams, [lo, hi]: [number, number]): QuantizerParams {
  const scale = Float32Array.from(p.scale);
  const eps = 2 ** -23;
  for (let c = 0; c < scale.length; c++) {
    const zp = p.zeroPoint[c] ?? p.zeroPoint[0];
    const over = () => Math.fround(Math.fround(scale[c] * (p.qmax - zp)) - hi) > eps || Math.fround(lo - Math.fround(scale[c] * (p.qmin - zp))) > eps;
    if (over() && p.qmax > zp) scale[c] = Math.min(scale[c], Math.fround(hi / (p.qmax - zp)));
    for (let k = 0; k < 64 && over(); k++) scale[c] = Math.fround(scale[c] * (1 - 2 ** -24));
  }
  return { ...p, scale };
}

/** Samples a statistics batch holds: as many as keep `sampleBytes` each within `budget`, 1 to `max`. */
export function statisticsBatch(sampleBytes: number, budget: number, max: number): number {
  if (!(sampleBytes > 0)) return max;
  return Math.max(1, Math.min(max, Math.floor(budget / sampleBytes)));
}
