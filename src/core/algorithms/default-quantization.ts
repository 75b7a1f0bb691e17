// DefaultQuantization as a run: FP32 baseline on the whole set, quantize, evaluate.

import type { DefaultQuantizationParams } from '../config/types';
import type { ProgressFn } from '../types';
import type { QuantState, QuantizationBackend } from './backend';
import { computeDrops, isLabelFree, pickMetrics, resolveMetrics, type Direction, type Metrics } from './drop';

export interface DefaultQuantizationResult {
  state: QuantState;
  metrics: { name: string; direction: Direction }[];
  baseline: Metrics;
  quantized: Metrics;
  drop: Metrics;
  labelFree: boolean;
}

export async function runDefaultQuantization(
  backend: QuantizationBackend,
  params: DefaultQuantizationParams,
  opts: { progress?: ProgressFn; log?: (message: string) => void } = {},
): Promise<DefaultQuantizationResult> {
  const specs = resolveMetrics(backend.metricDefs(), null);
  const log = opts.log ?? (() => {});
  const p = opts.progress;
  log('Start original model inference');
  const fp32 = await backend.evaluate(null, null, p ? (e) => p({ ...e, stage: 'baseline' }) : undefined);
  const baseline = pickMetrics(specs, fp32.metrics);
  log('Start quantization');
  const state = await backend.quantize(params, p);
  const q = await backend.evaluate(state, null, p ? (e) => p({ ...e, stage: 'quantized-eval' }) : undefined);
  const quantized = pickMetrics(specs, q.metrics);
  const drop = computeDrops(specs, baseline, quantized);
  p?.({ stage: 'done', done: 1, total: 1 });
  return { state, metrics: specs, baseline, quantized, drop, labelFree: isLabelFree(specs) };
}
