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

/** A snapshot's meta.json with every `clock` field taken out, and how many there were. */
function withoutClock(text: string): { json: string; clocks: number } {
  let clocks = 0;
  const json = JSON.stringify(JSON.parse(text), (k, v: unknown) => (k === 'clock' ? (clocks++, undefined) : v));
  return { json, clocks };
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
    expect(readFileSync(join(outs[1].snap, 'state.json')).equals(readFileSync(join(outs[0].snap, 'state.json'))), 'snapshot state.json differs').toBe(true);
    // meta.json: identical but for the run clock (start time and time per phase, kept so that a resumed run's times cover the whole run)
    const [ma, mb] = outs.map((o) => withoutClock(readFileSync(join(o.snap, 'meta.json'), 'utf8')));
    expect(ma.clocks, 'the snapshot records the run clock').toBeGreaterThan(0);
    expect(mb.json, 'snapshot meta.json differs').toBe(ma.json);
    console.log(
      `determinism: 2 runs (in-process + child), ${report.reverted.length} group(s) reverted, status ${report.aaq.status}, ` +
        `final ${JSON.stringify(report.final.metrics)}; reports identical (timings, path aside), QDQ ${qa.length} bytes identical, snapshots identical`,
    );
  });
});
