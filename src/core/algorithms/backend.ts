// What the quantization algorithms (DefaultQuantization, AccuracyAwareQuantization) need from the
// model + data + engine underneath. The real implementation lives in `quantization-backend.ts`;
// unit tests drive the algorithms with scripted fakes of this interface.

import type { DefaultQuantizationParams } from '../config/types';
import type { MetricDef, ProgressFn, RevertGroup } from '../types';

/** Per-channel numbers stored as plain arrays so a state is JSON-serialisable (snapshots). */
export interface StoredQuantizer {
  scale: number[];
  zeroPoint: number[];
  qmin: number;
  qmax: number;
  dtype: 'int8' | 'uint8';
  low: number[];
  high: number[];
}

/**
 * A quantized configuration of the model: which quantizers are on, their grids, and the bias
 * corrections applied. Small and JSON-serialisable: a snapshot holds it, not a network.
 */
export interface QuantState {
  /** The DefaultQuantization parameters this state was produced with (preset, estimator, …). */
  params: DefaultQuantizationParams;
  /** Quantizer ids that are currently on. */
  enabled: string[];
  /** Grid of every quantizer produced by the base algorithm (on or off). */
  quantizers: Record<string, StoredQuantizer>;
  /** Corrected biases by node name (FastBiasCorrection), applied while the node's weight quantizer is on. */
  biases: Record<string, number[]>;
}

/** Metric values over a set of samples. */
export interface EvalResult {
  /** Sample indices evaluated (ascending), into the validation dataset. */
  indices: number[];
  /** Aggregate value per metric name over `indices`. */
  metrics: Record<string, number>;
  /** Per-sample value per metric name, aligned with `indices`. */
  perSample: Record<string, number[]>;
}

export interface QuantizationBackend {
  /** Number of validation samples. */
  readonly datasetSize: number;
  /** Metrics available on this data (with direction), in config order. */
  metricDefs(): MetricDef[];
  /** Evaluate FP32 (`state` null) or a quantized state on `indices` (null = all samples). */
  evaluate(state: QuantState | null, indices: number[] | null, progress?: ProgressFn): Promise<EvalResult>;
  /** Run the base algorithm (statistics, ranges, bias correction) from the FP32 model. */
  quantize(params: DefaultQuantizationParams, progress?: ProgressFn): Promise<QuantState>;
  /** Revert groups among the state's enabled quantizers, in graph (topological) order of their seed. */
  groups(state: QuantState): RevertGroup[];
  /** Quantizable ops that currently run quantized (POT's get_num_of_quantized_ops). */
  quantizedOps(state: QuantState): string[];
  /**
   * Called before a ranking scores `groups` of `state` (each on the same samples); returns the
   * same groups in the order to evaluate them (prefix_cache: deepest first). Optional; the order
   * changes cost only — scores are per group and the ranking is sorted afterwards.
   */
  prepareRanking?(state: QuantState, groups: RevertGroup[]): Promise<RevertGroup[]>;
  /** Counters for the report. */
  counts(): { inferences: number; sessions: number };
  /**
   * The range [lo, hi] of a metric's per-sample values, for engines whose evaluations are
   * deterministic (the same configuration gives every sample the same value in any batch) and
   * whose aggregate metric is the mean of the per-sample values. Only then do the AAQ work
   * savings (reuse_evaluations, early_stop, lazy_ranking) apply; without it AAQ runs POT's
   * schedule whatever the parameters say.
   */
  perSampleBounds?(metric: string): [number, number] | null;
}

/** A state with one group's quantizers switched off (pure). */
export function revertGroup(state: QuantState, group: RevertGroup): QuantState {
  const off = new Set(group.quantizers);
  return { ...state, enabled: state.enabled.filter((q) => !off.has(q)) };
}

/**
 * `backend` with its revert groups as `revert_mode` reverts them: FP32 (POT's) as they are;
 * INT8_WEIGHTS (NNCF's RestoreMode.ONLY_ACTIVATIONS) without their weight quantizers (ids `w:…`),
 * so reverting a group returns its activations to FP32 and keeps its weights INT8; groups left
 * with no activation quantizer are not offered.
 */
export function withRevertMode(backend: QuantizationBackend, mode: 'FP32' | 'INT8_WEIGHTS' | undefined): QuantizationBackend {
  if (!mode || mode === 'FP32') return backend;
  const groups = (state: QuantState): RevertGroup[] =>
    backend
      .groups(state)
      .map((g) => ({ ...g, quantizers: g.quantizers.filter((q) => !q.startsWith('w:')) }))
      .filter((g) => g.quantizers.length > 0);
  return new Proxy(backend, {
    get(target, key) {
      if (key === 'groups') return groups;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
