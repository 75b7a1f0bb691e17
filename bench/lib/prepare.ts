// Node side of a bench model: the config's model, data, quantized state and the samples the engine
// measurements run on (materialised once, so every back end sees the same inputs).
import type { AccuracyAwareParams } from '../../src/core/config/types';
import type { QuantState } from '../../src/core/algorithms/backend';
import { encodeModel } from '../../src/core/onnx/proto';
import type { MetricName } from '../../src/core/types';
import { prepareRun, type RunSetup } from '../../src/node/run-setup';

export interface BenchModel {
  name: string;
  config: string;
  setup: RunSetup;
  params: AccuracyAwareParams;
  state: QuantState;
  metrics: MetricName[];
  /** The normalised FP32 model, encoded. */
  model: Uint8Array;
  sampleShape: number[];
  x: Float32Array;
  y: Int32Array;
}

export async function prepareModel(name: string, config: string, maxSamples: number): Promise<BenchModel> {
  const setup = await prepareRun({ config, engine: 'native' });
  const params = setup.algorithm.params as AccuracyAwareParams;
  const state = await setup.backend.quantize(params);
  const n = Math.min(maxSamples, setup.dataset.size);
  const shape = setup.dataset.sampleShape;
  const len = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * len);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = await setup.dataset.get(i);
    x.set(s.input, i * len);
    y[i] = s.label;
  }
  return { name, config, setup, params, state, metrics: setup.metrics, model: encodeModel(setup.model), sampleShape: shape, x, y };
}

export async function disposeModel(m: BenchModel): Promise<void> {
  await m.setup.backend.dispose();
  await m.setup.engine.dispose();
}
