// The run report: one builder (src/core/report.ts) for the CLI and the studio's run worker.
import { describe, expect, it } from 'vitest';
import type { AaqResult } from '../../src/core/algorithms/history';
import type { QuantState } from '../../src/core/algorithms/backend';
import { AAQ_VERSION, buildRunReport, summaryText, type ReportBackend, type ReportSetup, type RunReportInput } from '../../src/core/report';

const OPS = ['conv1', 'conv2', 'fc'];

function fakeBackend(enabledOps: string[]): ReportBackend {
  return {
    mode: 'switchable',
    calibration: undefined,
    modeUse: { switchable: { calls: 3, samples: 48 }, 'session-per-config': { calls: 0, samples: 0 } },
    placement: { ops: OPS, quantizers: [], ignored: [] },
    timings: { statistics: 5, export: 2 },
    counts: () => ({ inferences: 100, sessions: 3 }),
    quantizedOps: () => enabledOps,
    groups: () => [{}, {}, {}] as never,
    quantizerSpecs: () => [{}, {}, {}, {}] as never,
  } as unknown as ReportBackend;
}

function fakeSetup(name: 'DefaultQuantization' | 'AccuracyAwareQuantization', modelName = ''): ReportSetup {
  const params = { seed: 7, preset: 'performance' };
  return {
    parsed: { config: { model: { model_name: modelName } } } as never,
    algorithm: { name, params } as never,
    dataset: { size: 16 },
    fingerprints: { model: 'm-fp', data: 'd-fp' },
  };
}

const state = { enabled: ['a', 'b'] } as unknown as QuantState;
const metrics = { baseline: { acc: 0.9 }, quantized: { acc: 0.8 }, final: { acc: 0.85 }, drop: { acc: 0.05 } };

function input(over: Partial<RunReportInput> = {}): RunReportInput {
  return {
    setup: fakeSetup('DefaultQuantization'),
    backend: fakeBackend(['conv1', 'conv2', 'fc']),
    engine: { backend: 'native', label: 'onnxruntime-node (CPU)' },
    model: { path: '/models/cnn.onnx', name: 'cnn.onnx', bytes: 4096, quantizedBytes: 1024 },
    state,
    ...metrics,
    labelFree: false,
    totalMs: 123,
    warnings: ['w1'],
    ...over,
  };
}

describe('buildRunReport', () => {
  it('builds a DefaultQuantization report with the documented fields', () => {
    const r = buildRunReport(input());
    expect(Object.keys(r)).toEqual([
      'tool',
      'version',
      'algorithm',
      'model',
      'data',
      'engine',
      'params',
      'seed',
      'baseline',
      'quantized',
      'final',
      'drop',
      'label_free',
      'groups_total',
      'reverted',
      'layers',
      'quantizers',
      'counts',
      'timings',
      'resumed',
      'warnings',
      'sanity',
    ]);
    expect(r).toMatchObject({
      tool: 'aaq-studio',
      version: AAQ_VERSION,
      algorithm: 'DefaultQuantization',
      model: { name: 'cnn.onnx', path: '/models/cnn.onnx', fingerprint: 'm-fp', bytes: 4096, quantized_bytes: 1024 },
      data: { fingerprint: 'd-fp', size: 16 },
      engine: { backend: 'native', label: 'onnxruntime-node (CPU)', mode: 'switchable' },
      seed: 7,
      baseline: { metrics: { acc: 0.9 } },
      final: { metrics: { acc: 0.85 } },
      drop: { acc: 0.05 },
      label_free: false,
      groups_total: 3,
      reverted: [],
      quantizers: { total: 4, enabled: 2 },
      counts: { inferences: 100, sessions: 3 },
      timings: { statistics: 5, export: 2, total: 123 },
      warnings: ['w1'],
    });
    expect(r.engine).not.toHaveProperty('calibration');
    expect(r.layers.every((l) => l.precision === 'INT8')).toBe(true);
    expect(r.aaq).toBeUndefined();
    expect(summaryText(r)).toContain('DefaultQuantization on cnn.onnx (16 samples, native, switchable)');
  });

  it("prefers the config's model_name and adds the prior counts of a resumed run", () => {
    const r = buildRunReport(input({ setup: fakeSetup('DefaultQuantization', 'fmnist'), priorCounts: { inferences: 50, sessions: 2 } }));
    expect(r.model.name).toBe('fmnist');
    expect(r.counts).toEqual({ inferences: 150, sessions: 5 });
  });

  it('a resumed run: resumed flag, the interruption, and timings over every part of the run', () => {
    const fresh = buildRunReport(input({}));
    expect(fresh.resumed).toBe(false);
    expect(fresh).not.toHaveProperty('interruption');
    const t = Date.UTC(2026, 0, 2, 3, 4, 5);
    const r = buildRunReport(
      input({
        totalMs: 9000,
        timings: { baseline: 4000, ranking: 3000 },
        resume: { startedAt: t, interruptedAt: t + 6000, resumedAt: t + 60_000, phase: 'rank', iterations: 0, beforeMs: 5000, resumedMs: 4000, resumes: 1 },
      }),
    );
    expect(r.resumed).toBe(true);
    expect(r.timings).toEqual({ baseline: 4000, ranking: 3000, total: 9000 });
    expect(r.interruption).toEqual({
      started_at: '2026-01-02T03:04:05.000Z',
      last_checkpoint_at: '2026-01-02T03:04:11.000Z',
      resumed_at: '2026-01-02T03:05:05.000Z',
      phase: 'rank',
      iterations: 0,
      before_ms: 5000,
      resumed_ms: 4000,
      resumes: 1,
    });
    expect(summaryText(r)).toContain('resumed at Ranking after 0 iterations; run time 9.0 s (5.0 s before the interruption, 4.0 s after)');
  });

  it('folds an AAQ result in: reverted groups, layer precisions, and the rest under `aaq`', () => {
    const aaq = {
      ...metrics,
      state,
      thresholds: {},
      metrics: [],
      groupsTotal: 5,
      quantizedOpsTotal: 3,
      reverted: [{ group: 'g1', ops: ['conv2'], extra: 1 }],
      history: [
        { iteration: 1, accepted: true, ops: ['conv2'] },
        { iteration: 2, accepted: false, ops: ['fc'] },
      ],
      rankings: [],
      messages: ['m'],
      status: 'met',
      options: { return_best: false, exclude_rolled_back: false },
      selected: { source: 'iteration', iteration: 1, best: false },
      mixed: null,
      tuning: null,
      diffSubsetSize: 16,
      labelFree: false,
      savings: {},
    } as unknown as AaqResult;
    const r = buildRunReport(input({ setup: fakeSetup('AccuracyAwareQuantization'), backend: fakeBackend(['conv1', 'fc']), aaq }));
    expect(r.groups_total).toBe(5);
    expect(r.reverted).toEqual([{ group: 'g1', ops: ['conv2'] }]);
    expect(r.layers).toEqual([
      { name: 'conv1', precision: 'INT8' },
      { name: 'conv2', precision: 'FP32', reverted_at: 1 },
      { name: 'fc', precision: 'INT8' },
    ]);
    for (const k of ['state', 'baseline', 'final', 'drop', 'reverted', 'groupsTotal']) expect(r.aaq).not.toHaveProperty(k);
    expect(r.aaq).toMatchObject({ status: 'met', messages: ['m'], diffSubsetSize: 16, quantized: metrics.quantized });
    expect(summaryText(r)).toContain('reverted 1 of 5 groups (1 of 3 layers FP32)');
  });
});
