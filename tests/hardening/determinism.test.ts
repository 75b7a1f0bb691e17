// Issue 6, part 5 (CLI): the same model, data, config and seed give byte-identical reports
// (timings and paths aside), the same QDQ model bytes and the same final snapshots. One run in
// this process, one in a child process; the config makes AAQ revert at least one group.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIX, MODELS, runCli, runCliChild, tempDir, writeJson } from './cli-harness';

const root = tempDir('determinism');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = {
  model: { model_name: 'fmnist-resnet', model: join(MODELS, 'fmnist-resnet.onnx') },
  engine: {
    dataset: {
      data_source: join(FIX, 'fmnist-2000/x.npy'),
      labels: join(FIX, 'fmnist-2000/y.npy'),
      color: 'gray',
      preprocessing: [{ type: 'normalization', mean: 72.93, std: 90.015 }],
    },
    metrics: [{ name: 'accuracy@top1' }],
  },
  compression: {
    algorithms: [{ name: 'AccuracyAwareQuantization', params: { stat_subset_size: 100, maximal_drop: 0.003, seed: 3 } }],
  },
};

/** The report's text with what may legitimately differ (timings, the measured latency, the model's path) blanked. */
function normalized(path: string): string {
  const r = JSON.parse(readFileSync(path, 'utf8')) as { timings: unknown; latency?: unknown; exported?: { eval_ms: unknown }[]; model: { path: string } };
  r.timings = '<timings>';
  r.latency = '<latency>';
  for (const e of r.exported ?? []) e.eval_ms = '<ms>';
  r.model.path = '<path>';
  return JSON.stringify(r, null, 2);
}

describe('determinism (CLI)', () => {
  it('two runs: identical reports (timings, paths aside), QDQ bytes and snapshots', async () => {
    const cfg = writeJson(join(root, 'aaq-resnet.json'), config);
    const outs = ['a', 'b'].map((d) => ({ out: join(root, d, 'q.onnx'), report: join(root, d, 'report.json'), snap: join(root, d, 'q.onnx.run', 'run') }));
    const argv = (o: (typeof outs)[number]) => ['quantize', '-q', '-c', cfg, '-o', o.out, '-r', o.report];
    const a = await runCli(argv(outs[0]));
    expect(a.code, a.stderr).toBe(0);
    const b = runCliChild(argv(outs[1]), {}, 180_000);
    expect(b.code, b.stderr).toBe(0);

    const [ra, rb] = outs.map((o) => normalized(o.report));
    const report = JSON.parse(ra) as { reverted: unknown[]; aaq: { status: string }; final: { metrics: Record<string, number> } };
    expect(report.reverted.length, 'the config should make AAQ revert something').toBeGreaterThan(0);
    expect(rb).toBe(ra);
    // the summary too, but for its measured latency lines (and the warning when INT8 is slower)
    const summary = (s: string) => s.replace(/^ {2}(latency on|warning: The INT8 model is slower).*\n/gm, '');
    expect(summary(b.stdout)).toBe(summary(a.stdout));
    const [qa, qb] = outs.map((o) => readFileSync(o.out));
    expect(qb.equals(qa), 'QDQ model bytes differ').toBe(true);
    for (const f of ['state.json', 'meta.json']) {
      expect(readFileSync(join(outs[1].snap, f)).equals(readFileSync(join(outs[0].snap, f))), `snapshot ${f} differs`).toBe(true);
    }
    console.log(
      `determinism: 2 runs (in-process + child), ${report.reverted.length} group(s) reverted, status ${report.aaq.status}, ` +
        `final ${JSON.stringify(report.final.metrics)}; reports identical (timings, path aside), QDQ ${qa.length} bytes identical, snapshots identical`,
    );
  });
});
