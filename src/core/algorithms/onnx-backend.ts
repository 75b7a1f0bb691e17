// The QuantizationBackend over a real ONNX model, dataset and inference engine: statistics pass,
// DefaultQuantization (placement, ranges, Concat unification, FastBiasCorrection), and evaluation
// of any quantized state on a switchable fake-quant session (or a session per configuration).
import type { DefaultQuantizationParams } from '../config/types';
import { Evaluator, runDataset } from '../engine/runner';
import { GraphIndex } from '../onnx/graph';
import { encodeModel, type ModelProto } from '../onnx/proto';
import { readTensor, toFloat32 } from '../onnx/tensor';
import { metricDef, perSampleMetric, aggregate, top1, classifierShape } from '../metrics/index';
import { analyzePlacement, type Placement } from '../quant/placement';
import { GroupFinder } from '../quant/groups';
import { CalibrationStats, statisticsModel, type WatchRequest } from '../quant/calibration';
import { activationEstimator, aggregateEstimator, sampleStatsFor, weightEstimator } from '../quant/estimators';
import { activationParams, fakeQuantize, unifyParams, weightParams } from '../quant/ranges';
import { fastBiasCorrection } from '../quant/bias-correction';
import type { SampleStat } from '../quant/statistics';
import { QuantizeError, type Dataset, type Engine, type MetricDef, type MetricName, type ProgressFn, type QuantizerParams, type QuantizerSpec, type RevertGroup } from '../types';
import { revertGroup, type EvalResult, type QuantState, type QuantizationBackend, type StoredQuantizer } from './backend';
import type { PrefixCacheUse } from './prefix-cache';
import { toStored } from './stored';
import { CandidateModels } from './candidate-models';
import type { EvalMode, EvalModeOption, ModeCalibration, ModeUse } from './eval-mode';
import { EvalSessions, PREFIX_MIN_CANDIDATES } from './eval-sessions';
import { cachedDataset } from './sample-cache';

export type { EvalMode, EvalModeOption } from './eval-mode';


export interface OnnxBackendOptions {
  engine: Engine;
  /** The normalised FP32 model. */
  model: ModelProto;
  dataset: Dataset;
  metrics: MetricName[];
  /** Params that decide placement (ignored scope, model_type, preset). */
  placementParams: DefaultQuantizationParams;
  batchSize?: number;
  /** How the switchable graph fake-quantizes (mode 'switchable'). */
  flavor?: 'qdq' | 'float';
  /** How its quantizers are switched (default: If on the CPU engines, Where on WebGPU; see candidate-models.ts). */
  gate?: 'where' | 'if';
  /** How a candidate configuration is evaluated: one switchable session fed per configuration, a
   *  session built per configuration (see candidate-models.ts), 'auto' (the faster of the two on
   *  this back end, as measured by the bench) or 'calibrate' (measured at run time); eval-mode.ts.
   *  Default 'switchable'. */
  mode?: EvalModeOption;
  /** The model a session per configuration runs: 'fake-quant' (default; the switchable graph's
   *  arithmetic) or 'qdq' (the exported QDQ model on onnxruntime's int8 kernels). */
  perConfig?: 'fake-quant' | 'qdq';
  /** prefix_cache: resume ranking candidates from cached activations (prefix-cache.ts). */
  prefixCache?: boolean;
  /** Also collect the statistics tune_hyperparams' grid needs, in the same pass. */
  tuningStats?: boolean;
  /** Bytes of decoded samples kept in memory (default 256 MiB; 0: none). */
  sampleCacheBytes?: number;
}

const TUNING_STATS: SampleStat[] = [
  { type: 'min' }, { type: 'max' }, { type: 'abs_max' },
  ...[1e-3, 1e-4].flatMap((p): SampleStat[] => [
    { type: 'quantile', q: p }, { type: 'quantile', q: 1 - p }, { type: 'abs_quantile', q: 1 - p },
  ]),
];

export class OnnxQuantizationBackend implements QuantizationBackend {
  readonly datasetSize: number;
  readonly idx: GraphIndex;
  readonly placement: Placement;
  readonly finder: GroupFinder;
  readonly inputName: string;
  readonly outputName: string;
  private readonly specs = new Map<string, QuantizerSpec>();
  private readonly evaluator: Evaluator;
  private readonly calib: CalibrationStats[] = [];
  private readonly fp32Top1 = new Map<number, number>();
  readonly candidates: CandidateModels;
  readonly sessions: EvalSessions;
  readonly timings: Record<string, number> = {};

  constructor(readonly opts: OnnxBackendOptions) {
    opts = this.opts = { ...opts, dataset: cachedDataset(opts.dataset, opts.sampleCacheBytes) };
    this.datasetSize = opts.dataset.size;
    this.idx = new GraphIndex(opts.model);
    this.placement = analyzePlacement(this.idx, opts.placementParams);
    for (const q of this.placement.quantizers) this.specs.set(q.id, q);
    this.finder = new GroupFinder(this.idx, this.placement.quantizers, this.placement.ops);
    this.candidates = new CandidateModels(opts.model, this.idx, this.placement);
    this.evaluator = new Evaluator(opts.engine);
    this.inputName = this.idx.inputs[0];
    this.outputName = this.idx.outputs[0];
    if (!this.inputName || !this.outputName) throw new QuantizeError('the model needs at least one input and one output');
    this.sessions = new EvalSessions({
      engine: opts.engine, model: opts.model, dataset: opts.dataset, candidates: this.candidates, evaluator: this.evaluator,
      inputName: this.inputName, outputName: this.outputName, batchSize: opts.batchSize ?? 16, flavor: opts.flavor ?? 'qdq',
      gate: opts.gate ?? (opts.engine.backend === 'webgpu' ? 'where' : 'if'),
      mode: opts.mode ?? 'switchable', perConfig: opts.perConfig ?? 'fake-quant', prefixCache: this.prefixWorthIt(), time: (phase, p) => this.time(phase, p),
    });
  }

  /** prefix_cache asked for, and the model has enough groups for a ranking to arm it (else the
   *  switchable graph is built without the cut outputs, which cost a little on every run). */
  private prefixWorthIt(): boolean {
    return !!this.opts.prefixCache && this.finder.groups(this.placement.quantizers.map((q) => q.id)).length >= PREFIX_MIN_CANDIDATES;
  }

  /** The mode candidate configurations are evaluated in ('auto': the back end's measured default). */
  get mode(): EvalMode {
    return this.sessions.mode;
  }

  /** What 'calibrate' measured and chose. */
  get calibration(): ModeCalibration | undefined {
    return this.sessions.calibration;
  }

  get modeUse(): ModeUse {
    return this.sessions.use;
  }

  metricDefs(): MetricDef[] {
    return this.opts.metrics.map(metricDef);
  }

  counts(): { inferences: number; sessions: number } {
    return { inferences: this.evaluator.inferences, sessions: this.opts.engine.sessionsCreated };
  }

  /** Every metric here is 0/1 per sample and aggregated as the mean; a configuration gives a sample
   *  the same outputs in any batch (onnxruntime's CPU kernels treat batch rows independently). */
  perSampleBounds(metric: string): [number, number] | null {
    return this.opts.metrics.includes(metric as MetricName) ? [0, 1] : null;
  }

  quantizerSpecs(): QuantizerSpec[] {
    return this.placement.quantizers;
  }

  private time<T>(phase: string, p: Promise<T>): Promise<T> {
    const t0 = performance.now();
    return p.finally(() => (this.timings[phase] = (this.timings[phase] ?? 0) + performance.now() - t0));
  }

  // ------------------------------------------------------------------------------------------
  // Statistics

  /** Calibration sample indices: the first stat_subset_size (or a seeded shuffle). */
  calibrationIndices(params: DefaultQuantizationParams): number[] {
    const n = Math.min(params.stat_subset_size, this.datasetSize);
    const all = Array.from({ length: this.datasetSize }, (_, i) => i);
    if (params.shuffle_data) {
      let s = (params.seed >>> 0) || 1;
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
    const out: { node: string; input: string; output: string; axis: number }[] = [];
    for (const q of this.placement.quantizers) {
      if (q.kind !== 'weight') continue;
      for (const c of q.consumers) {
        const n = this.idx.nodes[this.idx.nodeByName.get(c.node)!];
        if ((n.opType === 'Conv' || n.opType === 'Gemm') && n.input?.[2] && this.idx.isConstant(n.input[2])) {
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
      for (const q of this.placement.quantizers) {
        if (q.kind !== 'activation') continue;
        for (const mode of ['symmetric', 'asymmetric'] as const) {
          const est = activationEstimator(params, q.granularity, mode);
          add(q.tensor, sampleStatsFor(est).map((s) => ({ ...s, granularity: s.granularity ?? q.granularity, axis: 1 })));
        }
        if (this.opts.tuningStats) add(q.tensor, TUNING_STATS.map((s) => ({ ...s, granularity: q.granularity, axis: 1 })));
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
    const stats = new CalibrationStats(requests);
    const model = statisticsModel(this.opts.model, stats.tensors);
    const session = await this.opts.engine.createSession(encodeModel(model));
    const indices = this.calibrationIndices(params);
    try {
      await this.time('statistics', this.evaluator.run(session, this.opts.dataset, indices, {
        inputName: this.inputName, outputName: this.outputName, extraOutputs: stats.tensors,
        batchSize: this.opts.batchSize ?? 16, keepOutputs: false,
        onBatch: (_i, _o, all) => {
          for (const t of stats.tensors) if (all[t]) stats.add(t, all[t].data as Float32Array, all[t].dims);
        },
        progress: progress && ((d, t) => progress({ stage: 'statistics', done: d, total: t })),
      }));
    } finally {
      await this.opts.engine.release(session);
    }
    this.calib.push(stats);
  }

  // ------------------------------------------------------------------------------------------
  // DefaultQuantization

  async quantize(params: DefaultQuantizationParams, progress?: ProgressFn): Promise<QuantState> {
    await this.ensureStatistics(params, progress);
    const t0 = performance.now();
    const placement = analyzePlacement(this.idx, params);
    const grids = new Map<string, QuantizerParams>();
    const unified = new Map<string, string[]>();
    for (const q of placement.quantizers) {
      if (!this.specs.has(q.id)) continue; // placement is fixed by the session layout
      if (q.kind === 'activation') {
        const est = activationEstimator(params, q.granularity, q.mode);
        const found = this.findCollector(q.tensor, sampleStatsFor(est).map((s) => ({ ...s, granularity: s.granularity ?? q.granularity, axis: 1 })));
        if (!found) throw new QuantizeError(`no statistics for tensor '${q.tensor}'`);
        const agg = aggregateEstimator({ aggregate: (s, a) => found.col.aggregate({ ...s, granularity: s.granularity ?? q.granularity, axis: 1 }, a) }, est);
        grids.set(q.id, activationParams(q.mode, agg, { levels: q.levels, clipMin: est.min.clipping_value, clipMax: est.max.clipping_value }));
        if (q.unifiedKey) unified.set(q.unifiedKey, [...(unified.get(q.unifiedKey) ?? []), q.id]);
      } else {
        const w = toFloat32(readTensor(this.idx.initializers.get(q.tensor)!));
        const dims = (this.idx.initializers.get(q.tensor)!.dims ?? []).map(Number);
        grids.set(q.id, weightParams(q.mode, w, dims, q.axis ?? 0, { levels: q.levels, estimator: weightEstimator(params, q.mode) }));
      }
    }
    for (const [, ids] of unified) {
      const mode = placement.quantizers.find((q) => q.id === ids[0])!.mode;
      const u = unifyParams(ids.map((id) => grids.get(id)!), mode);
      for (const id of ids) grids.set(id, u);
    }
    const biases = params.bias_correction ? this.biasCorrections(grids) : {};
    const quantizers: Record<string, StoredQuantizer> = {};
    for (const [id, g] of grids) quantizers[id] = toStored(g);
    this.timings.quantize = (this.timings.quantize ?? 0) + performance.now() - t0;
    return { params, enabled: [...grids.keys()], quantizers, biases };
  }

  private biasCorrections(grids: Map<string, QuantizerParams>): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const f of this.fbcNodes()) {
      const n = this.idx.nodes[this.idx.nodeByName.get(f.node)!];
      const wq = this.placement.quantizers.find((q) => q.kind === 'weight' && q.consumers.some((c) => c.node === f.node));
      if (!wq || !grids.has(wq.id)) continue;
      const inMean = this.findCollector(f.input, [{ type: 'mean', granularity: 'perchannel', axis: 1 }]);
      const outMean = this.findCollector(f.output, [{ type: 'mean', granularity: 'perchannel', axis: 1 }]);
      if (!inMean || !outMean) continue;
      const winit = this.idx.initializers.get(wq.tensor)!;
      const dims = (winit.dims ?? []).map(Number);
      const wfq = fakeQuantize(toFloat32(readTensor(winit)), dims, grids.get(wq.id)!, wq.axis ?? 0);
      const aq = this.inputQuantizer(f.node);
      const r = fastBiasCorrection({
        node: n, weights: wfq, weightDims: dims,
        bias: toFloat32(readTensor(this.idx.initializers.get(n.input![2])!)),
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
    return this.placement.quantizers.find((q) => q.kind === 'activation' && this.finder.feedsInput(q.id, node, 0))?.id;
  }

  groups(state: QuantState): RevertGroup[] {
    return this.finder.groups(state.enabled);
  }

  async prepareRanking(state: QuantState, groups: RevertGroup[]): Promise<RevertGroup[]> {
    const order = await this.sessions.prepareRanking(state, groups.map((g) => revertGroup(state, g)));
    return order.map((i) => groups[i]);
  }

  /** What prefix_cache did (absent when it is off or the graph has no cut). */
  get prefixUse(): PrefixCacheUse | undefined {
    return this.sessions.prefix?.use;
  }

  quantizedOps(state: QuantState): string[] {
    return this.finder.quantizedOps(state.enabled);
  }

  // ------------------------------------------------------------------------------------------
  // Evaluation

  /** A standard QDQ model for a state (export, and the 'qdq' session-per-configuration evaluation). */
  exportModel(state: QuantState): ModelProto {
    return this.candidates.exportModel(state);
  }

  /** Creates the FP32 session now (it is kept for the baseline evaluation, so no extra session):
   *  a model the engine cannot load fails before any work is done. */
  async openFp32Session(): Promise<void> {
    await this.sessions.sessionFor(null);
  }

  /** Runs the FP32 model on sample 0 (not counted in counts()) to prove that it runs on this data
   *  and scores classes; returns the number of classes. */
  async probe(): Promise<number> {
    const { session } = await this.sessions.sessionFor(null);
    const r = await runDataset(this.opts.engine, session, this.opts.dataset, [0], { inputName: this.inputName, outputName: this.outputName, batchSize: 1 });
    const out = r.outputs[0];
    return out.dims.length >= 2 ? classifierShape(out.dims, this.outputName).classes : out.data.length;
  }

  async evaluate(state: QuantState | null, indices: number[] | null, progress?: ProgressFn): Promise<EvalResult> {
    const idxs = indices ?? Array.from({ length: this.datasetSize }, (_, i) => i);
    const metrics = this.opts.metrics;
    if (state && metrics.includes('agreement@top1')) {
      const missing = idxs.filter((i) => !this.fp32Top1.has(i));
      if (missing.length) await this.evaluate(null, missing);
    }
    const r = await this.sessions.run(state, idxs, progress && ((d, t) => progress({ stage: state ? 'quantized-eval' : 'baseline', done: d, total: t })));
    const perSample: Record<string, number[]> = Object.fromEntries(metrics.map((m) => [m, [] as number[]]));
    r.outputs.forEach((out, k) => {
      // [1, C] or [1, C, 1, 1] per sample (or [C] from a model without a batch dim)
      const classes = out.dims.length >= 2 ? classifierShape(out.dims, this.outputName).classes : out.data.length;
      const logits = out.data as Float32Array;
      const t1 = top1(logits, 1, classes)[0];
      if (!state) this.fp32Top1.set(idxs[k], t1);
      for (const m of metrics) {
        if (m === 'agreement@top1') perSample[m].push(state ? (t1 === this.fp32Top1.get(idxs[k]) ? 1 : 0) : 1);
        else perSample[m].push(perSampleMetric(m, logits, classes, [r.labels[k]])[0]);
      }
    });
    return { indices: idxs, perSample, metrics: Object.fromEntries(metrics.map((m) => [m, aggregate(perSample[m])])) };
  }

  /** Top-1 class per sample of FP32 (`state` null) or a quantized state. */
  async predictions(state: QuantState | null, indices: number[] | null): Promise<Int32Array> {
    const idxs = indices ?? Array.from({ length: this.datasetSize }, (_, i) => i);
    const r = await this.sessions.run(state, idxs);
    return Int32Array.from(r.outputs, (o) => top1(o.data as Float32Array, 1, o.data.length)[0]);
  }

  async dispose(): Promise<void> {
    await this.sessions.dispose();
  }
}
