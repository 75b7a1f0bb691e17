// User-facing phase names and the stages a resumed run has finished (src/core/run/phases.ts).
import { describe, expect, it } from 'vitest';
import type { AaqPhase } from '../../src/core/algorithms/history';
import { phaseLabel, stagesDoneBefore } from '../../src/core/run/phases';

const PHASES: AaqPhase[] = ['baseline', 'quantize', 'mixed', 'fp32-subset', 'tuning', 'tuning-apply', 'rank', 'iterate', 'done'];

describe('phases', () => {
  it('names every AAQ phase as the stage list does, never by its internal name', () => {
    expect(PHASES.map(phaseLabel)).toEqual(['FP32 baseline', 'Default INT8', 'Mixed preset', 'Ranking', 'Tuning', 'Tuning', 'Ranking', 'Iterations', 'Export']);
    expect(phaseLabel('something-new')).toBe('something-new');
  });

  it('lists the stages finished before a phase, in run order, growing with the phase', () => {
    expect(stagesDoneBefore('baseline')).toEqual([]);
    expect(stagesDoneBefore('quantize')).toEqual(['baseline']);
    expect(stagesDoneBefore('rank')).toEqual(['baseline', 'statistics', 'quantized-eval']);
    expect(stagesDoneBefore('iterate')).toEqual(['baseline', 'statistics', 'quantized-eval', 'ranking']);
    expect(stagesDoneBefore('done')).toEqual(['baseline', 'statistics', 'quantized-eval', 'ranking', 'iteration']);
    for (let i = 1; i < PHASES.length; i++) expect(stagesDoneBefore(PHASES[i]).length).toBeGreaterThanOrEqual(stagesDoneBefore(PHASES[i - 1]).length);
    expect(stagesDoneBefore('unknown')).toEqual([]);
  });
});
