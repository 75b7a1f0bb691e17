// The Run screen's whole-run estimate (src/app/lib/run-estimate.ts) from measured pass times, and
// the software-adapter check behind its WebGPU warning (src/app/lib/gpu-adapter.ts).

import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter, softwareAdapterAdvice } from '../../src/app/lib/gpu-adapter';
import { estimateRun, type EstimateInput, type StageTimes } from '../../src/app/lib/run-estimate';

const T0 = 1_000_000;

/** A stage that ran `units` units at `msPerUnit`, its first event after the first batch of 16. */
function stage(start: number, units: number, msPerUnit: number, done = units): StageTimes {
  const first = Math.min(16, done);
  return { done, total: units, startedAt: start, updatedAt: start + (done - first) * msPerUnit, finished: done >= units };
}

function input(over: Partial<EstimateInput>): EstimateInput {
  return { stages: {}, now: T0, startedAt: T0, batch: 16, aaq: true, defaultMet: null, groups: 0, iterations: 0, ...over };
}

describe('estimateRun', () => {
  it('knows nothing before the baseline pass has run for a second', () => {
    expect(estimateRun(input({}))).toBeUndefined();
    expect(estimateRun(input({ stages: { baseline: stage(T0, 300, 10, 32) }, now: T0 + 200 }))).toBeUndefined();
  });

  it('counts the rest of the baseline, the statistics and the INT8 pass at the FP32 rate', () => {
    // 200 of 300 samples at 10 ms each: 100 left (1 s) + 300 statistics samples (3 s) + 300 INT8 samples at 1.5 × (4.5 s).
    const base = stage(T0, 300, 10, 200);
    const now = base.updatedAt;
    const e = estimateRun(input({ stages: { baseline: base }, now }))!;
    expect(e.passMs).toBeCloseTo(3000, 6);
    expect(e.totalMs).toBeCloseTo(now - T0 + 1000 + 3000 + 4500, 6);
    expect(e.atLeast).toBe(true); // the INT8 model's drop is not known yet
  });

  it('ends with the INT8 pass when the default INT8 model meets the target', () => {
    const baseline = stage(T0, 300, 10);
    const statistics = stage(baseline.updatedAt, 300, 10);
    const q = stage(statistics.updatedAt, 300, 20);
    const e = estimateRun(input({ stages: { baseline, statistics, 'quantized-eval': q }, now: q.updatedAt, defaultMet: true }))!;
    expect(e.totalMs).toBeCloseTo(q.updatedAt - T0, 6);
    expect(e.atLeast).toBe(false);
    expect(e.perIterationMs).toBeUndefined();
  });

  it('adds a ranking of every group and one revert iteration when it misses, at the measured INT8 rate', () => {
    const baseline = stage(T0, 300, 10);
    const statistics = stage(baseline.updatedAt, 300, 10);
    const q = stage(statistics.updatedAt, 300, 20);
    const now = q.updatedAt;
    const e = estimateRun(input({ stages: { baseline, statistics, 'quantized-eval': q }, now, defaultMet: false, groups: 5, rankingSubsetSize: 100 }))!;
    // 5 groups × 100 ranking samples × 20 ms + one iteration of 300 samples × 20 ms.
    expect(e.totalMs).toBeCloseTo(now - T0 + 5 * 100 * 20 + 300 * 20, 6);
    expect(e.perIterationMs).toBeCloseTo(6000, 6);
    expect(e.atLeast).toBe(true);
  });

  it('uses the measured time per group once the ranking runs', () => {
    const baseline = stage(T0, 300, 10);
    const q = stage(baseline.updatedAt, 300, 20);
    const ranking: StageTimes = { done: 2, total: 6, startedAt: q.updatedAt, updatedAt: q.updatedAt + 1000, finished: false };
    const now = ranking.updatedAt;
    const e = estimateRun(input({ stages: { baseline, statistics: stage(T0, 300, 10), 'quantized-eval': q, ranking }, now, defaultMet: false, groups: 6 }))!;
    // 4 groups left at 500 ms each, then the first iteration (300 × 20 ms).
    expect(e.totalMs).toBeCloseTo(now - T0 + 4 * 500 + 6000, 6);
  });
});

describe('isSoftwareAdapter', () => {
  it("names SwiftShader, llvmpipe and WARP, and trusts the browser's isFallbackAdapter", () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3060' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'intel', architecture: 'gen-12lp' })).toBe(false);
    expect(isSoftwareAdapter({}, true)).toBe(true);
  });

  it('suggests WASM by name', () => {
    const text = softwareAdapterAdvice({ vendor: 'google', architecture: 'swiftshader' });
    expect(text).toContain('google · swiftshader');
    expect(text).toContain('software adapter');
    expect(text).toContain('Use WASM');
  });
});
