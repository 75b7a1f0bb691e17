// The QuantizationBackend over a real ONNX model, dataset and inference engine: DefaultQuantization
// (statistics, ranges, bias correction) is delegated to src/core/quant/onnx-quantizer.ts; this file
// evaluates any quantized state on a switchable fake-quant session (or a session per configuration).
import type { DefaultQuantizationParams } from '../config/types';
import { Evaluator, runDataset } from '../engine/runner';
import { GraphIndex } from '../onnx/graph';
import type { ModelProto } from '../onnx/proto';
import { MetricTally, metricDef, metricDefinition, savingsBounds, top1, classifierShape } from '../metrics/index';
import { analyzePlacement, type Placement } from '../quant/placement';
import { GroupFinder } from '../quant/groups';
import { OnnxQuantizer } from '../quant/onnx-quantizer';
import { QuantizeError, type Dataset, type Engine, type MetricDef, type MetricName, type ProgressFn, type QuantizerSpec, type RevertGroup, type TensorData } from '../types';
import { revertGroup, type EvalResult, type QuantState, type QuantizationBackend } from '../algorithms/backend';
import type { PrefixCacheUse } from './prefix-cache';
import { CandidateModels } from './candidate-models';
import type { EvalMode, EvalModeOption, ModeCalibration, ModeUse } from './eval-mode';
import { EvalSessions, PREFIX_MIN_CANDIDATES } from './eval-sessions';
import { cachedDataset } from './sample-cache';

export type { EvalMode, EvalModeOption } from './eval-mode';

/** A deployed model's session: the engine's default options (graph optimizations included), only
 *  onnxruntime's warnings silenced (WebGPU's notice that shape ops run on the CPU, on every session). */
export const DEPLOYED_SESSION_OPTIONS: Readonly<Record<string, unknown>> = Object.freeze({ logSeverityLevel: 3 });

/** What a statistics batch's watched activations may take when no budget is given (the prefix cache's default share). */
export const DEFAULT_STATISTICS_BYTES = 192 * 2 ** 20;

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
  /** Bytes of activations the prefix cache may keep (default 192 MiB). */
  prefixCacheBytes?: number;
  /** Bytes the watched activations of one statistics batch may take (default: the prefix cache's
   *  share, unused while statistics are collected; 0: batches of `batchSize`). */
  statisticsBytes?: number;
  /** The FP32 session's options: 'exact' (default; bit-exact with the switchable graph with every
   *  quantizer off) or 'deployed' (onnxruntime's defaults, as a deployed model runs). */
  fp32Session?: 'exact' | 'deployed';
}

export class OnnxQuantizationBackend implements QuantizationBackend {
  readonly datasetSize: number;
  readonly idx: GraphIndex;
  readonly placement: Placement;
  readonly finder: GroupFinder;
  readonly inputName: string;
  readonly outputName: string;
  private readonly evaluator: Evaluator;
  private readonly quantizer: OnnxQuantizer;
  /** Per metric that compares with the FP32 model: its reference of each FP32-evaluated sample. */
  private readonly fp32Refs = new Map<string, Map<number, unknown>>();
  /** FP32 top-1 class of each FP32-evaluated sample (the run's sanity checks read it). */
  readonly fp32Top1 = new Map<number, number>();
  readonly candidates: CandidateModels;
  readonly sessions: EvalSessions;
  readonly timings: Record<string, number> = {};

  constructor(readonly opts: OnnxBackendOptions) {
    opts = this.opts = { ...opts, dataset: cachedDataset(opts.dataset, opts.sampleCacheBytes) };
    this.datasetSize = opts.dataset.size;
    this.idx = new GraphIndex(opts.model);
    this.placement = analyzePlacement(this.idx, opts.placementParams);
    this.finder = new GroupFinder(this.idx, this.placement.quantizers, this.placement.ops);
    this.candidates = new CandidateModels(opts.model, this.idx, this.placement);
    this.evaluator = new Evaluator(opts.engine);
    this.inputName = this.idx.inputs[0];
    this.outputName = this.idx.outputs[0];
    if (!this.inputName || !this.outputName) throw new QuantizeError('the model needs at least one input and one output');
    this.quantizer = new OnnxQuantizer({
      engine: opts.engine,
      model: opts.model,
      dataset: opts.dataset,
      idx: this.idx,
      placement: this.placement,
      finder: this.finder,
      evaluator: this.evaluator,
      inputName: this.inputName,
      outputName: this.outputName,
      batchSize: opts.batchSize ?? 16,
      tuningStats: !!opts.tuningStats,
      statisticsBytes: opts.statisticsBytes ?? opts.prefixCacheBytes ?? DEFAULT_STATISTICS_BYTES,
      time: (phase, p) => this.time(phase, p),
      timings: this.timings,
    });
    this.sessions = new EvalSessions({
      engine: opts.engine,
      model: opts.model,
      dataset: opts.dataset,
      candidates: this.candidates,
      evaluator: this.evaluator,
      inputName: this.inputName,
      outputName: this.outputName,
      batchSize: opts.batchSize ?? 16,
      flavor: opts.flavor ?? opts.engine.traits.flavor,
      gate: opts.gate ?? opts.engine.traits.gate,
      mode: opts.mode ?? 'switchable',
      perConfig: opts.perConfig ?? 'fake-quant',
      prefixCache: this.prefixWorthIt(),
      prefixCacheBytes: opts.prefixCacheBytes,
      fp32Options: opts.fp32Session === 'deployed' ? { ...DEPLOYED_SESSION_OPTIONS } : undefined,
      time: (phase, p) => this.time(phase, p),
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

  /** The registry's bounds of the metric (null for a metric without bounds or whose value is not
   *  the mean of its per-sample values); a configuration gives a sample the same outputs in any
   *  batch (onnxruntime's CPU kernels treat batch rows independently). */
  perSampleBounds(metric: string): [number, number] | null {
    return this.opts.metrics.includes(metric) ? savingsBounds(metric) : null;
  }

  quantizerSpecs(): QuantizerSpec[] {
    return this.placement.quantizers;
  }

  private time<T>(phase: string, p: Promise<T>): Promise<T> {
    const t0 = performance.now();
    return p.finally(() => (this.timings[phase] = (this.timings[phase] ?? 0) + performance.now() - t0));
  }

  // ------------------------------------------------------------------------------------------
  // DefaultQuantization (src/core/quant/onnx-quantizer.ts)

  async quantize(params: DefaultQuantizationParams, progress?: ProgressFn): Promise<QuantState> {
    await this.sessions.releaseFp32(); // the statistics session runs alone
    return this.quantizer.quantize(params, progress);
  }

  groups(state: QuantState): RevertGroup[] {
    return this.finder.groups(state.enabled);
  }

  async prepareRanking(state: QuantState, groups: RevertGroup[]): Promise<RevertGroup[]> {
    const order = await this.sessions.prepareRanking(
      state,
      groups.map((g) => revertGroup(state, g)),
    );
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
    if (state) await this.fp32References(idxs);
    const r = await this.sessions.run(state, idxs, progress && ((d, t) => progress({ stage: state ? 'quantized-eval' : 'baseline', done: d, total: t })));
    return this.score(!state, idxs, r.outputs, r.labels);
  }

  /** The FP32 references of the metrics that compare with the FP32 model, on `idxs` (evaluated
   *  now where missing). */
  async fp32References(idxs: number[]): Promise<void> {
    const refs = this.opts.metrics.filter((m) => metricDefinition(m).needsFp32Reference).map((m) => this.fp32Refs.get(m));
    if (!refs.length) return;
    const missing = idxs.filter((i) => refs.some((r) => !r?.has(i)));
    if (missing.length) await this.evaluate(null, missing);
  }

  /** The metrics of per-sample outputs (`fp32`: the FP32 model's, which become the references). */
  private score(fp32: boolean, idxs: number[], outputs: TensorData[], labels: number[]): EvalResult {
    const tallies = this.opts.metrics.map((m) => new MetricTally(metricDefinition(m)));
    for (const t of tallies) if (t.def.reference && !this.fp32Refs.has(t.def.name)) this.fp32Refs.set(t.def.name, new Map());
    outputs.forEach((out, k) => {
      // [1, C] or [1, C, 1, 1] per sample (or [C] from a model without a batch dim)
      const output = { data: out.data as Float32Array, dims: out.dims, name: this.outputName };
      if (fp32) this.fp32Top1.set(idxs[k], top1(output.data, 1, output.data.length)[0]);
      for (const t of tallies) {
        let ref: unknown;
        if (t.def.reference) {
          const m = this.fp32Refs.get(t.def.name)!;
          if (fp32) m.set(idxs[k], t.def.reference.of(output));
          ref = m.get(idxs[k]);
        }
        t.add(output, labels[k], ref);
      }
    });
    return {
      indices: idxs,
      perSample: Object.fromEntries(tallies.map((t) => [t.def.name, t.values])),
      metrics: Object.fromEntries(tallies.map((t) => [t.def.name, t.result()])),
    };
  }

  /**
   * A model as onnxruntime deploys it — `model` (the exported QDQ file) in a session with the
   * engine's default options (its graph optimizations, hence its integer kernels), on `engine`
   * (default: the run's) — evaluated on every sample with the run's metrics, and its top-1 class
   * per sample. Not counted in counts(): the run's counts are the algorithm's.
   */
  async evaluateDeployed(model: Uint8Array, opts: { engine?: Engine; progress?: (done: number, total: number) => void } = {}): Promise<EvalResult & { top1: Int32Array }> {
    const engine = opts.engine ?? this.opts.engine;
    const idxs = Array.from({ length: this.datasetSize }, (_, i) => i);
    await this.fp32References(idxs);
    const session = await engine.createSession(model, { ...DEPLOYED_SESSION_OPTIONS });
    try {
      const r = await runDataset(engine, session, this.opts.dataset, idxs, {
        inputName: this.inputName,
        outputName: this.outputName,
        batchSize: this.opts.batchSize ?? 16,
        progress: opts.progress,
      });
      const top1s = Int32Array.from(r.outputs, (o) => top1(o.data as Float32Array, 1, o.data.length)[0]);
      return { ...this.score(false, idxs, r.outputs, r.labels), top1: top1s };
    } finally {
      await engine.release(session);
    }
  }

  /** Releases the evaluation sessions (they are created again when needed): before timing a
   *  deployed model, so that no idle session's threads compete with it. */
  async releaseSessions(): Promise<void> {
    await this.sessions.dispose();
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
