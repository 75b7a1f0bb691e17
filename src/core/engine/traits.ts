// What the core needs to know about an inference engine, declared by the engine definitions
// (src/node/engines.ts, workers/engine.ts) instead of being inferred from its name: how the
// switchable fake-quant graph is built for it, whether its results are exact enough for the
// prefix cache, the evaluation mode 'auto' picks on it, and what a run falls back to when it fails.

import type { EvalMode } from '../evaluation/eval-mode';

export interface EngineTraits {
  /** How the switchable graph switches a quantizer: `If` subgraphs (CPU: an off quantizer costs
   *  nothing) or `Where` (GPU: nothing leaves the device); src/core/evaluation/candidate-models.ts. */
  gate: 'if' | 'where';
  /** Fake-quant arithmetic: QuantizeLinear/DequantizeLinear ('qdq'), or Div/Round/Clip in float for
   *  execution providers without Q/DQ kernels ('float'); src/core/quant/switchable.ts. */
  flavor: 'qdq' | 'float';
  /** Under the exact session options (EXACT_SESSION_OPTIONS), the switchable graph with every
   *  quantizer off gives the FP32 model's outputs bit for bit, and a sample's outputs do not depend
   *  on the batch it runs in (tests/unit/switchable.test.ts, tests/e2e/session-options.test.ts). */
  exact: boolean;
  /** prefix_cache may resume ranking candidates from cached activations on this engine (its
   *  resumes are bit-exact only where `exact` holds; src/core/evaluation/prefix-cache.ts). */
  prefixCache: boolean;
  /** The evaluation mode 'auto' uses (src/core/evaluation/eval-mode.ts has the measurements). */
  defaultMode: EvalMode;
  /** Where a run goes on when this engine cannot load the model or fails mid-run (the studio's
   *  WebGPU → WASM); undefined: the failure is the run's. */
  fallback?: 'wasm';
}

/**
 * The CPU engines (onnxruntime-node, onnxruntime-web WASM in Node and in browsers). 'auto' picks the
 * switchable session: bench/results.md measured it faster for a ranking candidate of 300 samples,
 * session creation included, on every CPU back end (2-core AMD EPYC, onnxruntime 1.30; candidate
 * cost ÷ FP32 pass, geometric mean over the four zoo models): native — switchable 2.5–2.7, per
 * configuration 2.7–2.8; WASM in Node — 1.21–1.23 vs 1.23–1.37; WASM in Chromium with threads —
 * 1.21–1.39 vs 1.28–1.60.
 */
export const CPU_ENGINE: Readonly<EngineTraits> = Object.freeze({ gate: 'if', flavor: 'qdq', exact: true, prefixCache: true, defaultMode: 'switchable' });

/**
 * onnxruntime-web's native WebGPU EP: no QuantizeLinear/Round kernels (they would fall back to the
 * CPU), so the float flavour gated by Where; bit-exactness is only verified on the CPU engines, so no
 * prefix cache. Unmeasured here (no real adapter): 'auto' keeps the switchable session.
 */
export const GPU_ENGINE: Readonly<EngineTraits> = Object.freeze({ gate: 'where', flavor: 'float', exact: false, prefixCache: false, defaultMode: 'switchable', fallback: 'wasm' });
