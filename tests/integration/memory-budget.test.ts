// The memory budget (src/core/run/memory.ts, `aaq quantize --memory`): it bounds the caches, never
// the results — a run with the smallest budget writes the same QDQ model and the same figures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_BYTES, MIN_MEMORY_BYTES, deviceMemoryBudget, memoryPlan } from '../../src/core/run/memory';
import { readReport, runCli, tempDir, writeConfig } from './cli-helpers';

describe('memory budget', () => {
  it('splits the budget 4:3 between samples and activations, within [16 MiB, …]', () => {
    const p = memoryPlan();
    expect(p).toEqual({ budgetBytes: DEFAULT_MEMORY_BYTES, sampleCacheBytes: 256 * 2 ** 20, prefixCacheBytes: 192 * 2 ** 20 });
    const small = memoryPlan(1);
    expect(small.budgetBytes).toBe(MIN_MEMORY_BYTES);
    expect(small.sampleCacheBytes + small.prefixCacheBytes).toBe(MIN_MEMORY_BYTES);
    expect(deviceMemoryBudget(undefined)).toBe(DEFAULT_MEMORY_BYTES);
    expect(deviceMemoryBudget(8)).toBe(DEFAULT_MEMORY_BYTES);
    expect(deviceMemoryBudget(2)).toBe(256 * 2 ** 20);
    expect(deviceMemoryBudget(0.25)).toBe(32 * 2 ** 20);
    expect(deviceMemoryBudget(0.1)).toBe(MIN_MEMORY_BYTES);
  });

  it("--memory 16 gives the default run's model and figures (only the caches shrink)", async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, { model: 'fmnist-resnet.onnx', algorithm: 'AccuracyAwareQuantization', params: { maximal_drop: 0.0001, max_iter_num: 1 } });
    const run = async (name: string, extra: string[]) => {
      const out = join(dir, `${name}.onnx`);
      const rep = join(dir, `${name}.json`);
      const r = await runCli(['quantize', '-q', '-c', cfg, '-o', out, '-r', rep, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return { qdq: readFileSync(out), report: readReport(rep) };
    };
    const full = await run('default', []);
    const small = await run('small', ['--memory', '16']);
    expect(full.report.aaq?.rankings.length).toBeGreaterThan(0); // a ranking ran (the prefix cache was used)
    expect(small.qdq.equals(full.qdq)).toBe(true);
    for (const k of ['baseline', 'quantized', 'final', 'drop', 'reverted', 'layers'] as const) expect(small.report[k]).toEqual(full.report[k]);
    expect(small.report.aaq?.history).toEqual(full.report.aaq?.history);
    expect(small.report.counts.inferences).toBe(full.report.counts.inferences);
    expect((await runCli(['quantize', '-q', '-c', cfg, '-o', join(dir, 'x.onnx'), '--memory', '1'])).stderr).toMatch(/--memory 1 \(expected a number of MiB ≥ 16\)/);
  });
});
