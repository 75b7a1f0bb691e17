// The one place where a run's algorithm parameters, the engine's traits and the user's run
// settings become the evaluation options of the ONNX backend (src/core/evaluation/onnx-backend.ts).
// What is decided here is also what the report's `options` shows.
import type { EngineTraits } from '../engine/traits';
import type { EvalModeOption } from '../evaluation/eval-mode';
import type { Algorithm } from './inputs';
import { memoryPlan, type MemoryPlan } from './memory';

/** The user's run settings (CLI flags, the studio's Run settings card). */
export interface RunSettings {
  batchSize?: number;
  mode?: EvalModeOption;
  /** Bytes the run's caches may hold (memory.ts; default DEFAULT_MEMORY_BYTES). */
  memoryBytes?: number;
}

/** How a run evaluates: every switch that changes cost (never a result), with its reason. */
export interface EvaluationOptions {
  batchSize: number;
  mode: EvalModeOption;
  flavor: EngineTraits['flavor'];
  gate: EngineTraits['gate'];
  /** Collect tune_hyperparams' statistics in the same pass as the preset's. */
  tuningStats: boolean;
  /** prefix_cache: asked for by the config and supported by the engine. */
  prefixCache: boolean;
  /** How the memory budget is split between the caches. */
  memory: MemoryPlan;
  /** The FP32 session's options: 'exact' (EXACT_SESSION_OPTIONS) where AAQ compares FP32 with the
   *  switchable graph's "all quantizers off" bit for bit (its savings and its simulation rely on
   *  it); 'deployed' (onnxruntime's defaults) for DefaultQuantization, whose FP32 figures are only
   *  set against the exported model's, measured with the defaults too. The exact options cost
   *  2.0× (MobileNetV2-224) and 1.33× (ResNet-50-224) an FP32 pass on onnxruntime-node. */
  fp32Session: 'exact' | 'deployed';
}

/** The four AAQ savings as the run applies them (the report's `options.savings`). */
export interface SavingsOptions {
  reuse_evaluations: boolean;
  early_stop: boolean;
  lazy_ranking: boolean;
  prefix_cache: boolean;
  /** Why a saving asked for is off (e.g. the engine does not support it). */
  notes: string[];
}

export function evaluationOptions(algorithm: Algorithm, traits: EngineTraits, settings: RunSettings = {}): EvaluationOptions {
  const aaq = algorithm.name === 'AccuracyAwareQuantization' ? algorithm.params : undefined;
  return {
    batchSize: settings.batchSize ?? 16,
    mode: settings.mode ?? 'auto',
    flavor: traits.flavor,
    gate: traits.gate,
    tuningStats: !!aaq?.tune_hyperparams,
    prefixCache: !!aaq?.prefix_cache && traits.prefixCache,
    memory: memoryPlan(settings.memoryBytes),
    fp32Session: aaq ? 'exact' : 'deployed',
  };
}

/** The savings of an AAQ run (undefined for DefaultQuantization). */
export function savingsOptions(algorithm: Algorithm, traits: EngineTraits): SavingsOptions | undefined {
  if (algorithm.name !== 'AccuracyAwareQuantization') return undefined;
  const p = algorithm.params;
  const notes: string[] = [];
  if (p.prefix_cache && !traits.prefixCache) notes.push('prefix_cache is off: this engine does not support it (its resumes are not verified bit-exact)');
  return {
    reuse_evaluations: p.reuse_evaluations,
    early_stop: p.early_stop,
    lazy_ranking: p.lazy_ranking,
    prefix_cache: p.prefix_cache && traits.prefixCache,
    notes,
  };
}
