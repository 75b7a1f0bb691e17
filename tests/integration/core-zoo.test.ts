// Issue 2 acceptance on the zoo models: FP32 accuracy reproduced, performance-preset INT8 close to
// FP32, the exported QDQ model agrees with our fake-quant evaluation and is small.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRun } from '../../src/node/run-setup';
import { FIXTURES, readReport, runCli, tempDir, writeConfig } from './cli-helpers';

// zoo MANIFEST: FP32 top-1 on the first 2,000 t10k images (onnxruntime-node)
const MANIFEST: Record<string, number> = { 'fmnist-cnn.onnx': 0.923, 'fmnist-resnet.onnx': 0.9175, 'fmnist-mobilenet.onnx': 0.909 };

describe('aaq eval reproduces the MANIFEST FP32 accuracy', () => {
  for (const [model, acc] of Object.entries(MANIFEST)) {
    it(model, async () => {
      const cfg = writeConfig(tempDir(), { model, algorithm: 'DefaultQuantization' });
      const r = await runCli(['eval', '-q', '-c', cfg]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.samples).toBe(2000);
      expect(Math.abs(out.metrics['accuracy@top1'] - acc)).toBeLessThanOrEqual(0.001);
    });
  }
});

describe('DefaultQuantization (performance preset) on the CNN', () => {
  it('INT8 within 2 % of FP32; QDQ export agrees with fake-quant on ≥ 99 % of top-1; file ≤ 35 %', async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, { model: 'fmnist-cnn.onnx', algorithm: 'DefaultQuantization' });
    const out = join(dir, 'q.onnx');
    const rep = join(dir, 'r.json');
    const r = await runCli(['quantize', '-q', '-c', cfg, '-o', out, '-r', rep]);
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(rep);
    const fp32 = report.baseline.metrics['accuracy@top1'];
    const int8 = report.quantized.metrics['accuracy@top1'];
    expect(fp32).toBeCloseTo(0.923, 3);
    expect(Math.abs(fp32 - int8)).toBeLessThanOrEqual(0.02);
    expect(report.quantizers.enabled).toBe(report.quantizers.total);
    expect(report.counts.sessions).toBeLessThanOrEqual(3);
    const ratio = statSync(out).size / statSync(join(FIXTURES, 'models/fmnist-cnn.onnx')).size;
    expect(ratio).toBeLessThanOrEqual(0.35);

    // fake-quant (switchable session) vs the exported QDQ model run natively in onnxruntime-node
    const setup = await prepareRun({ config: cfg });
    const state = await setup.backend.quantize(setup.algorithm.params);
    const fake = await setup.backend.predictions(state, null);
    const qdq = await prepareRun({ config: cfg, model: out });
    const native = await qdq.backend.predictions(null, null);
    let agree = 0;
    for (let i = 0; i < fake.length; i++) if (fake[i] === native[i]) agree++;
    console.log(`CNN: FP32 ${fp32}, INT8 ${int8}, QDQ/fake-quant top-1 agreement ${agree}/${fake.length}, file ratio ${ratio.toFixed(3)}`);
    expect(agree / fake.length).toBeGreaterThanOrEqual(0.99);
    expect(Object.keys(state.quantizers).length).toBe(report.quantizers.total);
    for (const s of [setup, qdq]) {
      await s.backend.dispose();
      await s.engine.dispose();
    }
  });
});
