// Issue 12: what the report says is what the user deploys. On every zoo model the CLI's final
// metric is the exported QDQ file's accuracy as onnxruntime-node runs it with its default
// options (computed here independently: the file, an InferenceSession with no options, argmax
// against the labels), the simulated figures are kept beside it, FP32 vs INT8 latency is
// reported, and a run whose exported model misses maximal_drop does not end "met" — also when
// the simulation met it (a deliberately broken export: one weight scale ×4).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parsePotConfig } from '../../src/core/config/parse';
import { breakExportScale, DISAGREEMENT_LIMIT } from '../../src/core/run/deployment';
import { executeRun } from '../../src/core/run/execute';
import { prepareInputs } from '../../src/core/run/inputs';
import { FsSource } from '../../src/node/fs-source';
import { folderSnapshots } from '../../src/node/resume';
import { prepareRun } from '../../src/node/run-setup';
import { FIXTURES, readReport, runCli, tempDir, writeConfig } from './cli-helpers';

const M = 'accuracy@top1';

/** The PaddleOCR classifier on the bench's 100 rendered lines (50 per class). */
function ocrConfig(dir: string): string {
  const path = join(dir, 'ppocr-cls.json');
  const config = {
    model: { model_name: 'ppocr-cls', model: join(FIXTURES, 'models/ch_ppocr_mobile_v2.0_cls_infer.onnx') },
    engine: {
      dataset: { data_source: join(FIXTURES, '../../bench/data/ocr-100/'), color: 'bgr', preprocessing: [{ type: 'normalization', mean: 127.5, std: 127.5 }] },
      metrics: [{ name: M }],
    },
    compression: { algorithms: [{ name: 'AccuracyAwareQuantization', params: { preset: 'performance', stat_subset_size: 300, maximal_drop: 0.01 } }] },
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** Top-1 accuracy of a model file in onnxruntime-node with default options, batches of 16 (the
 *  CLI's), on the config's preprocessed samples. */
async function ortAccuracy(config: string, modelFile: string): Promise<number> {
  const text = readFileSync(config, 'utf8');
  const inputs = await prepareInputs({
    parsed: parsePotConfig(text, config),
    configName: config,
    modelBytes: readFileSync(modelFile),
    modelName: modelFile,
    source: new FsSource(join(config, '..')),
  });
  const ds = inputs.dataset;
  const session = await ort.InferenceSession.create(readFileSync(modelFile));
  try {
    const len = ds.sampleShape.reduce((a, b) => a * b, 1);
    let correct = 0;
    for (let i = 0; i < ds.size; i += 16) {
      const n = Math.min(16, ds.size - i);
      const x = new Float32Array(n * len);
      const labels: number[] = [];
      for (let k = 0; k < n; k++) {
        const s = await ds.get(i + k);
        x.set(s.input, k * len);
        labels.push(s.label);
      }
      const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [n, ...ds.sampleShape]) });
      const y = out[session.outputNames[0]].data as Float32Array;
      const classes = y.length / n;
      for (let k = 0; k < n; k++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (y[k * classes + c] > y[k * classes + best]) best = c;
        if (best === labels[k]) correct++;
      }
    }
    return correct / ds.size;
  } finally {
    await session.release();
  }
}

const zoo: [string, (dir: string) => string][] = [
  ['fmnist-cnn', (dir) => writeConfig(dir, { model: 'fmnist-cnn.onnx', algorithm: 'AccuracyAwareQuantization' })],
  ['fmnist-resnet', (dir) => writeConfig(dir, { model: 'fmnist-resnet.onnx', algorithm: 'AccuracyAwareQuantization' })],
  ['fmnist-mobilenet', (dir) => writeConfig(dir, { model: 'fmnist-mobilenet.onnx', algorithm: 'AccuracyAwareQuantization' })],
  ['ppocr-cls', ocrConfig],
];

describe('final figures from the exported model (CLI, onnxruntime-node)', () => {
  for (const [name, config] of zoo) {
    it(`${name}: the final metric is the exported file's under onnxruntime-node default options`, async () => {
      const dir = tempDir();
      const cfg = config(dir);
      const out = join(dir, 'q.onnx');
      const rep = join(dir, 'r.json');
      const r = await runCli(['quantize', '-q', '-c', cfg, '-o', out, '-r', rep]);
      expect(r.code, r.stderr).toBe(0);
      const report = readReport(rep);
      const measured = await ortAccuracy(cfg, out);
      const ex = report.exported![0];
      const lat = report.latency![0];
      console.log(
        `${name}: FP32 ${report.baseline.metrics[M]}, simulated ${report.simulated!.final[M]}, exported ${report.final.metrics[M]} (onnxruntime-node directly ${measured}), ` +
          `agreement ${ex.agreement_top1} on ${ex.agreement_samples}; status ${report.aaq!.status} (simulated ${report.simulated!.status}); ` +
          `latency ${lat.rows.map((x) => `b${x.batch} ${x.fp32_ms}→${x.int8_ms} ms`).join(', ')}`,
      );
      expect(report.final.metrics[M]).toBe(measured);
      expect(ex).toMatchObject({ backend: 'native', session_options: 'default', samples: report.data.size });
      expect(report.drop[M]).toBeCloseTo(report.baseline.metrics[M] - measured, 12);
      // the simulation is kept beside it, labelled, and the summary says which is which
      expect(report.simulated!.final[M]).toBe(ex.simulated[M]);
      expect(r.stdout).toContain(`simulated: final`);
      expect(r.stdout).toContain('final = the exported model as onnxruntime-node');
      // latency at batch 1 and 16, one row each, both models timed
      expect(lat.rows.map((x) => x.batch)).toEqual([1, 16]);
      for (const x of lat.rows) expect(x.fp32_ms > 0 && x.int8_ms > 0).toBe(true);
      expect(!!lat.warning).toBe(lat.rows.some((x) => x.int8_ms > x.fp32_ms));
      if (lat.warning) expect(lat.warning).toContain('onnxruntime-node');
      // the disagreement warning exactly when the two are more than 0.5 % apart
      const apart = Math.abs(ex.metrics[M] - ex.simulated[M]) > DISAGREEMENT_LIMIT || ex.agreement_top1 < 1 - DISAGREEMENT_LIMIT;
      expect(report.warnings.some((w) => w.startsWith('The exported model, as onnxruntime-node'))).toBe(apart);
      // never "met" when the exported model misses maximal_drop
      if (report.drop[M] > 0.01 + 1e-9) expect(report.aaq!.status).not.toBe('met');
      if (report.simulated!.status === 'met' && report.drop[M] > 0.01 + 1e-9) expect(report.aaq!.status).toBe('not-met-exported');
      // the run's counts are the algorithm's (the check is not counted in them)
      expect(report.counts.sessions).toBeGreaterThan(0);
    });
  }

  it('a run whose simulation meets maximal_drop but whose exported model misses it ends "not-met-exported"', async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, { model: 'fmnist-cnn.onnx', algorithm: 'AccuracyAwareQuantization', params: { maximal_drop: 0.01 } });
    const setup = await prepareRun({ config: cfg });
    let broken = '';
    try {
      const { report, qdq } = await executeRun(setup.run, {
        snapshots: folderSnapshots(join(dir, 'snap'), false),
        modelPath: setup.modelPath,
        startedAt: performance.now(),
        exportHook: (m) => (broken = breakExportScale(m, 4)),
      });
      const out = join(dir, 'broken.onnx');
      writeFileSync(out, qdq);
      const measured = await ortAccuracy(cfg, out);
      console.log(
        `broken export (${broken} ×4): simulated ${report.simulated!.final[M]} (${report.simulated!.status}), exported ${report.final.metrics[M]}, status ${report.aaq!.status}`,
      );
      expect(broken).not.toBe('');
      expect(report.simulated!.status).toBe('met');
      expect(report.final.metrics[M]).toBe(measured);
      expect(report.drop[M]).toBeGreaterThan(0.01);
      expect(report.aaq!.status).toBe('not-met-exported');
      expect(report.aaq!.messages.some((x) => x.startsWith('Target not met by the exported model'))).toBe(true);
      expect(report.warnings.some((w) => w.includes('disagrees with the simulation'))).toBe(true);
    } finally {
      await setup.run.dispose();
    }
  });
});
