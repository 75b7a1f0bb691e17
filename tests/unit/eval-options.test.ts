// The one place where algorithm parameters and engine traits become evaluation options
// (src/core/run/eval-options.ts): prefix_cache and its siblings, as the report shows them.
import { describe, expect, it } from 'vitest';
import { parsePotConfig } from '../../src/core/config/parse';
import { CPU_ENGINE, GPU_ENGINE } from '../../src/core/engine/traits';
import { evaluationOptions, savingsOptions } from '../../src/core/run/eval-options';

const algorithm = (name: string, params: Record<string, unknown> = {}) =>
  parsePotConfig(JSON.stringify({ model: { model: 'm.onnx' }, engine: { dataset: { data_source: 'd' } }, compression: { algorithms: [{ name, params }] } }), 'c.json').config
    .compression.algorithms[0];

describe('evaluation options', () => {
  it('AAQ on a CPU engine: prefix_cache on by default, the qdq flavour gated by If, the settings passed through', () => {
    const a = algorithm('AccuracyAwareQuantization');
    expect(evaluationOptions(a, CPU_ENGINE, { batchSize: 8, mode: 'calibrate' })).toEqual({
      batchSize: 8,
      mode: 'calibrate',
      flavor: 'qdq',
      gate: 'if',
      tuningStats: false,
      prefixCache: true,
      memory: { budgetBytes: 448 * 2 ** 20, sampleCacheBytes: 256 * 2 ** 20, prefixCacheBytes: 192 * 2 ** 20 },
      fp32Session: 'exact',
    });
    expect(savingsOptions(a, CPU_ENGINE)).toEqual({ reuse_evaluations: true, early_stop: true, lazy_ranking: true, prefix_cache: true, notes: [] });
  });

  it('an engine without prefix-cache support turns it off, and says why', () => {
    const a = algorithm('AccuracyAwareQuantization', { tune_hyperparams: true });
    const e = evaluationOptions(a, GPU_ENGINE);
    expect(e).toMatchObject({ flavor: 'float', gate: 'where', prefixCache: false, tuningStats: true, batchSize: 16, mode: 'auto' });
    const s = savingsOptions(a, GPU_ENGINE)!;
    expect(s.prefix_cache).toBe(false);
    expect(s.notes).toEqual([expect.stringContaining('prefix_cache is off')]);
  });

  it('the config switches the savings off; DefaultQuantization has none', () => {
    const a = algorithm('AccuracyAwareQuantization', { prefix_cache: false, lazy_ranking: false });
    expect(evaluationOptions(a, CPU_ENGINE).prefixCache).toBe(false);
    expect(savingsOptions(a, CPU_ENGINE)).toMatchObject({ prefix_cache: false, lazy_ranking: false, reuse_evaluations: true, notes: [] });
    const dq = algorithm('DefaultQuantization');
    // DefaultQuantization's FP32 figures are set only against the exported model's (default options)
    expect(evaluationOptions(dq, CPU_ENGINE).fp32Session).toBe('deployed');
    expect(evaluationOptions(dq, CPU_ENGINE).prefixCache).toBe(false);
    expect(savingsOptions(dq, CPU_ENGINE)).toBeUndefined();
  });
});
