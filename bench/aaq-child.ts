// One AAQ run for the bench, in its own process (so peak memory is the run's own): the CLI's
// `aaq quantize` on a config, then one warm FP32 pass over the same data on the same engine (the
// unit of "cost in FP32 passes") and the exported model's deployment figures on onnxruntime-node.
// Prints one JSON line. Usage: tsx bench/aaq-child.ts <config> <out-dir> <tag> [pot]
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { parse } from 'jsonc-parser';
import * as ort from 'onnxruntime-node';
import { main } from '../src/cli/main';
import type { RunReport } from '../src/core/report';
import { prepareRun } from '../src/node/run-setup';
import { median } from './lib/timing';

const [config, outDir, tag, pot] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });

/** The config with absolute paths and, for the POT-faithful run, every saving off. */
function writeConfig(): string {
  const raw = parse(readFileSync(config, 'utf8')) as Record<string, any>;
  const base = dirname(resolve(config));
  raw.model.model = resolve(base, raw.model.model);
  const ds = raw.engine.dataset;
  ds.data_source = resolve(base, ds.data_source);
  if (ds.labels) ds.labels = resolve(base, ds.labels);
  // AAQ_CHILD_MAXIMAL_DROP: the same run at another maximal_drop (the bench's run at POT's default)
  if (process.env.AAQ_CHILD_MAXIMAL_DROP) raw.compression.algorithms[0].params.maximal_drop = Number(process.env.AAQ_CHILD_MAXIMAL_DROP);
  if (pot) Object.assign(raw.compression.algorithms[0].params, { reuse_evaluations: false, early_stop: false, lazy_ranking: false, prefix_cache: false });
  const p = join(outDir, `${tag}.json`);
  writeFileSync(p, JSON.stringify(raw, null, 2));
  return p;
}

/** Peak resident set of this process, KiB: VmHWM (reset by exec, unlike getrusage's ru_maxrss, which
 *  keeps the high-water mark of the parent that forked us). */
function peakRssKB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS;
}

async function latency(model: string, sampleShape: number[], batch: number, runs: number): Promise<number> {
  const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const len = sampleShape.reduce((a, b) => a * b, 1);
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: batch * len }, (_, i) => Math.sin(i)),
    [batch, ...sampleShape],
  );
  const feeds = { [s.inputNames[0]]: x };
  for (let i = 0; i < 5; i++) await s.run(feeds);
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    t.push(performance.now() - t0);
  }
  await s.release();
  return median(t);
}

const cfg = writeConfig();
const out = join(outDir, `${tag}.onnx`);
const rep = join(outDir, `${tag}.report.json`);
const t0 = performance.now();
const code = await main(['quantize', '-q', '-c', cfg, '-o', out, '-r', rep, '--snapshots', join(outDir, `${tag}.run`)]);
const wallMs = performance.now() - t0;
const maxRssKB = peakRssKB();
if (code !== 0) throw new Error(`aaq quantize exited with ${code}`);
const report = JSON.parse(readFileSync(rep, 'utf8')) as RunReport;

// One FP32 pass over the whole data, warm, on the engine and session options AAQ used.
const setup = await prepareRun({ config: cfg });
await setup.backend.evaluate(null, null);
const f0 = performance.now();
await setup.backend.evaluate(null, null);
const fp32PassMs = performance.now() - f0;
const sampleShape = setup.dataset.sampleShape;
await setup.backend.dispose();
await setup.engine.dispose();

let deploy: Record<string, number> | null = null;
if (!pot) {
  const fp32 = report.model.path;
  const b1 = [await latency(fp32, sampleShape, 1, 200), await latency(out, sampleShape, 1, 200)];
  const b16 = [await latency(fp32, sampleShape, 16, 40), await latency(out, sampleShape, 16, 40)];
  deploy = {
    fp32Bytes: statSync(fp32).size,
    qdqBytes: statSync(out).size,
    fp32LatencyMs: b1[0],
    qdqLatencyMs: b1[1],
    fp32Batch16Ms: b16[0],
    qdqBatch16Ms: b16[1],
  };
}
process.stdout.write(JSON.stringify({ tag, wallMs, maxRssKB, fp32PassMs, report, deploy }) + '\n');
process.exit(0);
