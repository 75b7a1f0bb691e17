// The second half of preparing a run: the engine, the ONNX backend built with the evaluation
// options decided in eval-options.ts, the FP32 session opened and proved on the first sample, the
// labels checked against the classes the model scores. An engine whose traits name a fallback
// (the studio's WebGPU) is replaced by it when it cannot load the model or fails mid-run.
import { OnnxQuantizationBackend } from '../evaluation/onnx-backend';
import { QuantizeError, type Engine } from '../types';
import { evaluationOptions, savingsOptions, type EvaluationOptions, type RunSettings, type SavingsOptions } from './eval-options';
import { checkLabels } from './input-checks';
import { asModelError, oneLine, type PreparedInputs } from './inputs';

/** Where a run's engines come from (src/node/engines.ts, workers/engine.ts). */
export interface EngineFactory {
  create(): Promise<Engine>;
  /** The engine to go on with when `failed` (whose traits name a fallback) cannot; `why` says why,
   *  without a subject ('failed during the run (…)', 'cannot load this model (…)'). */
  fallback?(failed: Engine, why: string): Promise<Engine>;
}

export interface OpenRunOptions {
  engines: EngineFactory;
  settings?: RunSettings;
  /** Told when the run moves to a fallback engine, with the reason (a factory that shows the
   *  switch itself, as the studio's does, needs no more). */
  warn?(message: string): void;
}

export class OpenedRun {
  evaluation!: EvaluationOptions;
  savings?: SavingsOptions;
  backend!: OnnxQuantizationBackend;
  /** Classes the model scores (found on sample 0 when the run opened). */
  classes?: number;

  private constructor(
    readonly inputs: PreparedInputs,
    public engine: Engine,
    private readonly opts: OpenRunOptions,
  ) {}

  /** Opens the run on the factory's engine (or its fallback); a QuantizeError for bad input. */
  static async open(inputs: PreparedInputs, opts: OpenRunOptions): Promise<OpenedRun> {
    const run = new OpenedRun(inputs, await opts.engines.create(), opts);
    try {
      await run.build();
      try {
        await run.backend.openFp32Session();
      } catch (e) {
        if (!run.canFallBack(e)) await asModelError(inputs.modelName, () => Promise.reject(e));
        await run.fallBack(`cannot load this model (${oneLine(e)})`);
      }
      await run.probe();
      return run;
    } catch (e) {
      await run.dispose();
      throw e;
    }
  }

  /** Whether a failure of the engine (not of the input) can be survived on a fallback engine. */
  canFallBack(e: unknown): boolean {
    return !!this.engine.traits.fallback && !!this.opts.engines.fallback && !(e instanceof QuantizeError);
  }

  /** Replaces the engine by its fallback and reopens the backend on it. */
  async fallBack(why: string): Promise<void> {
    const failed = this.engine;
    await this.backend.dispose().catch(() => undefined);
    await failed.dispose().catch(() => undefined);
    this.engine = await this.opts.engines.fallback!(failed, why);
    this.opts.warn?.(`${failed.name} ${why}; running on ${this.engine.name} instead`);
    await this.build();
    await asModelError(this.inputs.modelName, () => this.backend.openFp32Session());
  }

  private async build(): Promise<void> {
    const { inputs } = this;
    this.evaluation = evaluationOptions(inputs.algorithm, this.engine.traits, this.opts.settings);
    this.savings = savingsOptions(inputs.algorithm, this.engine.traits);
    const e = this.evaluation;
    this.backend = await asModelError(
      inputs.modelName,
      () =>
        new OnnxQuantizationBackend({
          engine: this.engine,
          model: inputs.model,
          dataset: inputs.dataset,
          metrics: inputs.metrics,
          placementParams: inputs.params,
          batchSize: e.batchSize,
          flavor: e.flavor,
          gate: e.gate,
          mode: e.mode,
          tuningStats: e.tuningStats,
          prefixCache: e.prefixCache,
          sampleCacheBytes: e.memory.sampleCacheBytes,
          prefixCacheBytes: e.memory.prefixCacheBytes,
          fp32Session: e.fp32Session,
        }),
    );
  }

  /** The model runs on sample 0 and scores classes the labels fit. */
  private async probe(): Promise<void> {
    const { inputs } = this;
    const classes = await this.backend.probe().catch((e) => {
      if (e instanceof QuantizeError) throw QuantizeError.inFile(e, inputs.modelName);
      throw new QuantizeError(`fails on the first sample of ${inputs.files.data} (shaped [${inputs.dataset.sampleShape.join(', ')}]): ${oneLine(e)}`, {
        file: inputs.modelName,
        expected: 'data preprocessed to the shape the model input needs',
      });
    });
    checkLabels(inputs.dataset, classes, inputs.metrics, inputs.files);
    this.classes = classes;
  }

  async dispose(): Promise<void> {
    await this.backend?.dispose().catch(() => undefined);
    await this.engine.dispose().catch(() => undefined);
  }
}
