// tune_hyperparams: POT's ParamsGridSearchAlgorithm as AAQ uses it
// (POT `algorithms/quantization/optimization/params_tuning.py`, `optimization/algorithm.py`).
//
// The search spaces run one after the other; every guess of a later space is extended with the
// best guess found so far. As POT builds them (`_create_parameter_combinations`), space 1 holds
// ONE guess setting the weights estimator to min/max, then the 3 × 3 activation min × max
// estimator guesses (each with the base weights estimator); space 2 is use_fast_bias ∈ {true,
// false}. Error of a run: −mean over metrics of comparator((metric − ref) / ref), ref = metrics of
// the FIRST run + 1e-8; the first run's error is 0 (POT sets the reference after scoring it). The
// lowest error wins, the earliest on ties.

import type { DefaultQuantizationParams, RangeEstimatorConfig, RangeEstimatorSide } from '../config/types';
import { comparator, type MetricSpec, type Metrics } from './drop';
import { clone } from './params';

/** One parameter set by a guess (POT: `(namespace, value)`). */
export type GuessPart = { ns: 'weights' | 'activations'; range_estimator: { min: RangeEstimatorSide; max: RangeEstimatorSide } } | { ns: 'use_fast_bias'; value: boolean };

export type Guess = GuessPart[];

const ACT_MIN: RangeEstimatorSide[] = [
  { type: 'min', aggregator: 'min' },
  { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-3 },
  { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-4 },
];
const ACT_MAX: RangeEstimatorSide[] = [
  { type: 'max', aggregator: 'max' },
  { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-3 },
  { type: 'quantile', aggregator: 'mean', outlier_prob: 1e-4 },
];

/** The search spaces, in POT's order. Space guesses are later extended with the best-so-far guess. */
export function gridSpaces(): Guess[][] {
  const space1: Guess[] = [[{ ns: 'weights', range_estimator: { min: { type: 'min' }, max: { type: 'max' } } }]];
  for (const min of ACT_MIN) {
    for (const max of ACT_MAX) space1.push([{ ns: 'activations', range_estimator: { min: { ...min }, max: { ...max } } }]);
  }
  const space2: Guess[] = [[{ ns: 'use_fast_bias', value: true }], [{ ns: 'use_fast_bias', value: false }]];
  return [space1, space2];
}

/** Number of quantization runs the grid costs (POT: 10 + 2). */
export function gridRunCount(): number {
  return gridSpaces().reduce((a, s) => a + s.length, 0);
}

/**
 * Apply a guess to the base parameters. A range-estimator part replaces that quantizer kind's
 * whole `range_estimator` (as POT does); unlike POT, the kind's other settings (mode, bits,
 * granularity) are kept — POT replaced the whole `weights`/`activations` section, silently
 * dropping an explicit mode.
 */
export function applyGuess(base: DefaultQuantizationParams, guess: Guess): DefaultQuantizationParams {
  const out = clone(base);
  for (const part of guess) {
    if (part.ns === 'use_fast_bias') {
      out.use_fast_bias = part.value;
    } else {
      const re: RangeEstimatorConfig = { min: { ...part.range_estimator.min }, max: { ...part.range_estimator.max } };
      out[part.ns] = { ...(out[part.ns] ?? {}), range_estimator: re };
    }
  }
  return out;
}

function side(s: RangeEstimatorSide): string {
  return `${s.type}${s.aggregator ? '/' + s.aggregator : ''}${s.outlier_prob !== undefined ? '@' + s.outlier_prob : ''}`;
}

/** Human-readable label of a guess, for the report. */
export function describeGuess(guess: Guess): string {
  return guess.map((p) => (p.ns === 'use_fast_bias' ? `use_fast_bias=${p.value}` : `${p.ns}: min=${side(p.range_estimator.min)} max=${side(p.range_estimator.max)}`)).join('; ');
}

/** The reference of the error function: the first run's metrics + 1e-8. */
export function errorReference(specs: MetricSpec[], first: Metrics): Metrics {
  const ref: Metrics = {};
  for (const s of specs) ref[s.name] = first[s.name] + 1e-8;
  return ref;
}

/** POT's `metric_error`: −mean over metrics of comparator((metric − ref) / ref); 0 without a reference. */
export function gridError(specs: MetricSpec[], metrics: Metrics, ref: Metrics | null): number {
  if (!ref) return 0;
  let sum = 0;
  for (const s of specs) sum += comparator(s.direction)((metrics[s.name] - ref[s.name]) / ref[s.name]);
  return -(sum / specs.length);
}
