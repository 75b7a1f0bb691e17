// Presets, modes and levels (POT `fake_quantize_configuration.py::_apply_preset_rule`,
// `fake_quantize.py::compute_levels`, `accuracy_aware_common/utils.py`).
//
// Pure data logic: no DOM, no Node APIs.

import type { DefaultQuantizationParams, QuantizerOverride } from '../config/types';
import { QuantizeError, type Granularity, type QuantMode } from '../types';

/** The mode/granularity/levels of one tensor kind after the preset and explicit overrides. */
export interface KindConfig {
  mode: QuantMode;
  granularity: Granularity;
  /** POT levels: 255 for symmetric weights (±127, narrow range), otherwise 2^bits = 256. */
  levels: number;
}

export interface QuantizerModes {
  weights: KindConfig;
  activations: KindConfig;
}

/** The subset of the algorithm params the preset logic reads. */
export type PresetParams = Pick<DefaultQuantizationParams, 'preset'> & {
  weights?: QuantizerOverride | null;
  activations?: QuantizerOverride | null;
};

/**
 * POT's preset table. The hardware config lists symmetric candidates first and asymmetric last;
 * `performance` takes the first for both, `accuracy` the last for both, `mixed` takes symmetric
 * weights and asymmetric activations. An explicit `weights.mode` / `activations.mode` filters the
 * candidate list first, so it always wins over the preset.
 *
 * Granularity: weights per output channel, activations per tensor (depthwise-conv inputs are
 * switched to per-channel by the placement code, not here). An explicit `granularity` override
 * is honoured, as POT filters hardware candidates by it too.
 */
export function quantizerModes(params: PresetParams): QuantizerModes {
  const preset = params.preset || 'performance';
  let wMode: QuantMode;
  let aMode: QuantMode;
  switch (preset) {
    case 'performance':
      wMode = 'symmetric';
      aMode = 'symmetric';
      break;
    case 'mixed':
      wMode = 'symmetric';
      aMode = 'asymmetric';
      break;
    case 'accuracy':
      wMode = 'asymmetric';
      aMode = 'asymmetric';
      break;
    default:
      throw new QuantizeError(`unsupported preset '${String(preset)}'`, {
        field: 'preset',
        expected: 'performance | mixed | accuracy',
      });
  }
  const w = params.weights ?? {};
  const a = params.activations ?? {};
  if (w.mode) wMode = w.mode;
  if (a.mode) aMode = a.mode;
  const wBits = w.bits ?? 8;
  const aBits = a.bits ?? 8;
  return {
    weights: { mode: wMode, granularity: w.granularity ?? 'perchannel', levels: quantizerLevels('weight', wMode, wBits) },
    activations: { mode: aMode, granularity: a.granularity ?? 'pertensor', levels: quantizerLevels('activation', aMode, aBits) },
  };
}

/**
 * POT `compute_levels`: 2^bits levels, except symmetric weights which use the narrow range
 * ±(2^(bits-1) − 1), i.e. 2^bits − 1 levels (255 for 8 bits).
 */
export function quantizerLevels(kind: 'weight' | 'activation', mode: QuantMode, bits = 8): number {
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new QuantizeError(`unsupported bit width ${bits}`, { field: 'bits', expected: 'an integer 2..8' });
  }
  const levels = 2 ** bits;
  return kind === 'weight' && mode === 'symmetric' ? levels - 1 : levels;
}

/**
 * POT `is_preset_performance`:
 * true when both explicit modes are symmetric; false when either explicit mode is asymmetric;
 * otherwise true exactly when the preset is `performance` (an empty preset counts as
 * `performance`, POT's `compute_stats_layouts` default).
 */
export function isPresetPerformance(params: PresetParams): boolean {
  const wm = params.weights?.mode;
  const am = params.activations?.mode;
  if (wm === 'symmetric' && am === 'symmetric') return true;
  if (wm === 'asymmetric' || am === 'asymmetric') return false;
  return (params.preset || 'performance') === 'performance';
}

/**
 * POT `get_mixed_preset_config`: a deep copy with `preset = 'mixed'`, any explicit activation
 * mode forced to asymmetric and any explicit weight mode forced to symmetric. Modes that were not
 * set stay unset (the preset then decides: symmetric weights, asymmetric activations).
 */
export function mixedPresetParams<T extends PresetParams>(params: T): T {
  const copy = structuredClone(params);
  copy.preset = 'mixed';
  if (copy.activations?.mode) copy.activations.mode = 'asymmetric';
  if (copy.weights?.mode) copy.weights.mode = 'symmetric';
  return copy;
}
