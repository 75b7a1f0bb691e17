import { describe, expect, it } from 'vitest';
import { isPresetPerformance, mixedPresetParams, quantizerLevels, quantizerModes, type PresetParams } from '../../src/core/quant/presets';
import { QuantizeError } from '../../src/core/types';

const p = (x: PresetParams): PresetParams => x;

describe('quantizerModes (POT preset table)', () => {
  it('performance: symmetric weights (255 levels) and symmetric activations (256)', () => {
    expect(quantizerModes(p({ preset: 'performance', weights: {}, activations: {} }))).toEqual({
      weights: { mode: 'symmetric', granularity: 'perchannel', levels: 255 },
      activations: { mode: 'symmetric', granularity: 'pertensor', levels: 256 },
    });
  });

  it('mixed: symmetric weights, asymmetric activations', () => {
    const m = quantizerModes(p({ preset: 'mixed', weights: {}, activations: {} }));
    expect(m.weights).toEqual({ mode: 'symmetric', granularity: 'perchannel', levels: 255 });
    expect(m.activations).toEqual({ mode: 'asymmetric', granularity: 'pertensor', levels: 256 });
  });

  it('accuracy: asymmetric weights (256 levels) and asymmetric activations', () => {
    const m = quantizerModes(p({ preset: 'accuracy', weights: {}, activations: {} }));
    expect(m.weights).toEqual({ mode: 'asymmetric', granularity: 'perchannel', levels: 256 });
    expect(m.activations).toEqual({ mode: 'asymmetric', granularity: 'pertensor', levels: 256 });
  });

  it('explicit modes override the preset', () => {
    const a = quantizerModes(p({ preset: 'performance', weights: {}, activations: { mode: 'asymmetric' } }));
    expect(a.weights.mode).toBe('symmetric');
    expect(a.activations.mode).toBe('asymmetric');
    const b = quantizerModes(p({ preset: 'accuracy', weights: { mode: 'symmetric' }, activations: {} }));
    expect(b.weights).toEqual({ mode: 'symmetric', granularity: 'perchannel', levels: 255 });
    expect(b.activations.mode).toBe('asymmetric');
    const c = quantizerModes(p({ preset: 'mixed', weights: { mode: 'asymmetric' }, activations: { mode: 'symmetric' } }));
    expect(c.weights).toEqual({ mode: 'asymmetric', granularity: 'perchannel', levels: 256 });
    expect(c.activations.mode).toBe('symmetric');
  });

  it('missing override blocks and explicit granularity', () => {
    expect(quantizerModes({ preset: 'performance' }).activations.mode).toBe('symmetric');
    expect(quantizerModes({ preset: 'performance', activations: { granularity: 'perchannel' } }).activations.granularity).toBe('perchannel');
  });

  it('rejects an unknown preset with a QuantizeError naming the field', () => {
    expect(() => quantizerModes({ preset: 'fast' as never })).toThrow(QuantizeError);
    expect(() => quantizerModes({ preset: 'fast' as never })).toThrow(/preset/);
  });
});

describe('quantizerLevels (compute_levels)', () => {
  it('symmetric weights are narrow (2^bits − 1), everything else 2^bits', () => {
    expect(quantizerLevels('weight', 'symmetric')).toBe(255);
    expect(quantizerLevels('weight', 'asymmetric')).toBe(256);
    expect(quantizerLevels('activation', 'symmetric')).toBe(256);
    expect(quantizerLevels('activation', 'asymmetric')).toBe(256);
    expect(quantizerLevels('weight', 'symmetric', 4)).toBe(15);
    expect(() => quantizerLevels('weight', 'symmetric', 16)).toThrow(QuantizeError);
  });
});

describe('isPresetPerformance', () => {
  it('both explicit modes symmetric → true, whatever the preset', () => {
    expect(isPresetPerformance({ preset: 'accuracy', weights: { mode: 'symmetric' }, activations: { mode: 'symmetric' } })).toBe(true);
  });
  it('either explicit mode asymmetric → false, whatever the preset', () => {
    expect(isPresetPerformance({ preset: 'performance', weights: {}, activations: { mode: 'asymmetric' } })).toBe(false);
    expect(isPresetPerformance({ preset: 'performance', weights: { mode: 'asymmetric' }, activations: { mode: 'symmetric' } })).toBe(false);
  });
  it('otherwise the preset decides', () => {
    expect(isPresetPerformance({ preset: 'performance', weights: {}, activations: {} })).toBe(true);
    expect(isPresetPerformance({ preset: 'performance', weights: { mode: 'symmetric' }, activations: {} })).toBe(true);
    expect(isPresetPerformance({ preset: 'mixed', weights: { mode: 'symmetric' }, activations: {} })).toBe(false);
    expect(isPresetPerformance({ preset: 'accuracy', weights: {}, activations: {} })).toBe(false);
  });
  it("an empty preset is POT's default, performance (the same rule as quantizerModes and the config parser)", () => {
    expect(isPresetPerformance({ preset: '' as never, weights: {}, activations: {} })).toBe(true);
    expect(isPresetPerformance({ preset: undefined as never })).toBe(true);
    expect(quantizerModes({ preset: '' as never }).activations.mode).toBe('symmetric');
  });
  it('is the one implementation (core/algorithms/params re-exports it)', async () => {
    const params = await import('../../src/core/algorithms/params');
    expect(params.isPresetPerformance).toBe(isPresetPerformance);
    expect(params.mixedPresetParams).toBe(mixedPresetParams);
  });
});

describe('mixedPresetParams (get_mixed_preset_config)', () => {
  it('sets preset mixed and forces explicit modes: activations asymmetric, weights symmetric', () => {
    const orig = { preset: 'performance' as const, weights: { mode: 'asymmetric' as const, bits: 8 }, activations: { mode: 'symmetric' as const }, extra: 1 };
    const m = mixedPresetParams(orig);
    expect(m.preset).toBe('mixed');
    expect(m.activations.mode).toBe('asymmetric');
    expect(m.weights.mode).toBe('symmetric');
    expect(m.weights.bits).toBe(8);
    expect(m.extra).toBe(1);
    // deep copy: the input is untouched
    expect(orig.preset).toBe('performance');
    expect(orig.weights.mode).toBe('asymmetric');
    expect(orig.activations.mode).toBe('symmetric');
    expect(isPresetPerformance(m)).toBe(false);
  });

  it('leaves unset modes unset, so the mixed preset decides', () => {
    const m = mixedPresetParams(p({ preset: 'accuracy', weights: {}, activations: {} }));
    expect(m.weights?.mode).toBeUndefined();
    expect(m.activations?.mode).toBeUndefined();
    const modes = quantizerModes(m);
    expect(modes.weights.mode).toBe('symmetric');
    expect(modes.activations.mode).toBe('asymmetric');
  });
});
