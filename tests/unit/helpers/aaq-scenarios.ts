// Scripted models shared by the AAQ tests (see fake-backend.ts for the damage model).

import type { AccuracyAwareParams } from '../../../src/core/config/types';
import { defaultAaqParams } from '../../../src/core/config/defaults';
import { FakeBackend, ones, type FakeSpec } from './fake-backend';

export function aaqParams(over: Partial<AccuracyAwareParams> = {}): AccuracyAwareParams {
  return { ...defaultAaqParams(), ...over };
}

/**
 * The "step back" model: 16 samples, FP32 = 1 everywhere, 4 groups.
 *   g0: −2 on samples 0,1 but +1 on samples 8..12 (quantizing it helps them)
 *   g1: −2 on samples 2,3 but +1 on samples 8..12
 *   g2: −1 on samples 4..7
 *   g3: −1 on samples 14,15
 * Fully quantized: mean = 1 − 4/16, drop 0.25. Reverting g0 or g1 fixes the hardest samples
 * (the ranking subset) but raises the full-set drop by 1/16 each.
 */
export function stepBackSpec(direction: 'higher-better' | 'lower-better' = 'higher-better'): FakeSpec {
  const helps = Object.fromEntries([8, 9, 10, 11, 12].map((n) => [n, -1]));
  return {
    n: 16,
    groups: 4,
    metrics: [
      {
        name: 'accuracy@top1',
        direction,
        fp32: direction === 'higher-better' ? ones(16) : Array.from({ length: 16 }, () => 0),
        damage: {
          0: { 0: 2, 1: 2, ...helps },
          1: { 2: 2, 3: 2, ...helps },
          2: { 4: 1, 5: 1, 6: 1, 7: 1 },
          3: { 14: 1, 15: 1 },
        },
      },
    ],
  };
}

export const stepBackParams = (over: Partial<AccuracyAwareParams> = {}) => aaqParams({ maximal_drop: 0.0625, ranking_subset_size: 4, ...over });

export function stepBack(direction: 'higher-better' | 'lower-better' = 'higher-better'): FakeBackend {
  return new FakeBackend(stepBackSpec(direction));
}
