// Issue 3 acceptance on the zoo: AAQ on the model that drops most (fmnist-resnet), compared with
// reverting in reverse-topological order; an unreachable target; the label-free mode; the cost
// schedule the report describes.
import { join } from 'node:path';
import { MAX_PREFIX_CUTS } from '../../src/core/quant/prefix-cuts';
import { describe, expect, it } from 'vitest';
import { revertGroup } from '../../src/core/algorithms/backend';
import { MSG_NOT_ACHIEVED } from '../../src/core/algorithms/aaq-context';
import { prepareRun } from '../../src/node/run-setup';
import { readReport, runCli, tempDir, writeConfig } from './cli-helpers';

const MAX_DROP = 0.003;

/** Groups reverted one by one from the end of the graph until the drop is within `maxDrop`. */
async function reverseTopologicalCount(config: string, maxDrop: number): Promise<number> {
  const s = await prepareRun({ config });
  try {
    const fp32 = (await s.backend.evaluate(null, null)).metrics['accuracy@top1'];
    let state = await s.backend.quantize(s.algorithm.params);
    const groups = s.backend.groups(state);
    for (let k = 0; k <= groups.length; k++) {
      const m = (await s.backend.evaluate(state, null)).metrics['accuracy@top1'];
      if (fp32 - m <= maxDrop) return k;
      if (k < groups.length) state = revertGroup(state, groups[groups.length - 1 - k]);
    }
    return groups.length;
  } finally {
    await s.backend.dispose();
    await s.engine.dispose();
  }
}

describe('AccuracyAwareQuantization on fmnist-resnet (the zoo model that drops most)', () => {
  it(`reaches maximal_drop ${MAX_DROP} reverting fewer groups than reverse-topological order`, async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, { model: 'fmnist-resnet.onnx', algorithm: 'AccuracyAwareQuantization', params: { maximal_drop: MAX_DROP } });
    const out = join(dir, 'q.onnx');
    const rep = join(dir, 'r.json');
    const r = await runCli(['quantize', '-q', '-c', cfg, '-o', out, '-r', rep, '--mode', 'switchable']);
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(rep);
    const aaq = report.aaq!;
    expect(aaq.status).toBe('met');
    expect(report.drop['accuracy@top1']).toBeLessThanOrEqual(MAX_DROP);
    expect(report.quantized.metrics['accuracy@top1']).toBeLessThan(report.baseline.metrics['accuracy@top1'] - MAX_DROP);
    const reverseTopo = await reverseTopologicalCount(cfg, MAX_DROP);
    console.log(
      `resnet: AAQ reverted ${report.reverted.length} of ${report.groups_total} groups (drop ${report.drop['accuracy@top1']}), reverse-topological order needs ${reverseTopo}`,
    );
    expect(report.reverted.length).toBeGreaterThan(0);
    expect(report.reverted.length).toBeLessThan(reverseTopo);
    // the per-layer table agrees with the reverted groups
    const fp32Layers = report.layers
      .filter((l) => l.precision === 'FP32')
      .map((l) => l.name)
      .sort();
    expect(fp32Layers).toEqual([...new Set(report.reverted.flatMap((g) => g.ops))].sort());

    // switchable mode: a constant number of sessions; inferences follow the reported schedule,
    // less what the work savings (issue 5, on by default) avoided
    // statistics, FP32, switchable, and a suffix session per prefix cut the rankings resumed from
    expect(report.counts.sessions).toBeGreaterThanOrEqual(3);
    expect(report.counts.sessions).toBeLessThanOrEqual(3 + MAX_PREFIX_CUTS);
    const N = report.data.size;
    const stats = Math.min(300, N);
    const ranking = aaq.rankings.reduce((a, rk) => a + rk.scores.length * rk.subsetSize, 0);
    const iterations = aaq.history.length;
    const saved = aaq.savings.reuse_evaluations + aaq.savings.early_stop + aaq.savings.lazy_ranking;
    expect(saved).toBeGreaterThan(0);
    expect(report.counts.inferences + saved).toBe(N + stats + N + ranking + iterations * N);

    // the exported model loads in onnxruntime-node and reproduces the reported metric
    const check = await prepareRun({ config: cfg, model: out });
    const m = (await check.backend.evaluate(null, null)).metrics['accuracy@top1'];
    await check.backend.dispose();
    await check.engine.dispose();
    expect(Math.abs(m - report.final.metrics['accuracy@top1'])).toBeLessThanOrEqual(0.0025);
  });

  it("ends with POT's message and a valid model when no model can reach the target", async () => {
    const dir = tempDir();
    // a baseline the FP32 model itself is far below: nothing can meet it
    const cfg = writeConfig(dir, {
      model: 'fmnist-cnn.onnx',
      algorithm: 'AccuracyAwareQuantization',
      params: { maximal_drop: 0.001, metrics: [{ name: 'accuracy@top1', baseline_value: 0.99 }] },
    });
    const out = join(dir, 'q.onnx');
    const rep = join(dir, 'r.json');
    const r = await runCli(['quantize', '-q', '-c', cfg, '-o', out, '-r', rep]);
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(rep);
    expect(report.aaq!.status).not.toBe('met');
    expect(report.aaq!.messages).toContain(MSG_NOT_ACHIEVED);
    expect(r.stdout).toContain(MSG_NOT_ACHIEVED);
    expect(report.aaq!.diffSubsetSize).toBe(1000); // metric_subset_ratio 0.5 of 2000
    const check = await prepareRun({ config: cfg, model: out });
    const m = (await check.backend.evaluate(null, null)).metrics['accuracy@top1'];
    await check.backend.dispose();
    await check.engine.dispose();
    expect(m).toBeGreaterThan(0.9);
  });

  it("runs label-free with agreement@top1 and reports the final model's labelled accuracy", async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, {
      model: 'fmnist-resnet.onnx',
      algorithm: 'AccuracyAwareQuantization',
      labels: null,
      metrics: [{ name: 'agreement@top1' }],
      params: { maximal_drop: 0.005 },
    });
    const out = join(dir, 'q.onnx');
    const rep = join(dir, 'r.json');
    const r = await runCli(['quantize', '-q', '-c', cfg, '-o', out, '-r', rep]);
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(rep);
    expect(report.label_free).toBe(true);
    expect(r.stdout).toContain('label-free');
    expect(report.baseline.metrics['agreement@top1']).toBe(1);
    expect(report.drop['agreement@top1']).toBeLessThanOrEqual(0.005);
    // labelled accuracy of the final model, measured with the labels the run never saw
    const labelled = writeConfig(dir, { model: 'fmnist-resnet.onnx', algorithm: 'DefaultQuantization' });
    const e = await runCli(['eval', '-q', '-c', labelled, '-m', out]);
    expect(e.code, e.stderr).toBe(0);
    const acc = JSON.parse(e.stdout).metrics['accuracy@top1'];
    console.log(
      `label-free resnet: agreement ${report.final.metrics['agreement@top1']}, reverted ${report.reverted.length}, labelled accuracy of the final model ${acc} (FP32 0.9175)`,
    );
    expect(acc).toBeGreaterThan(0.9);
  });
});
