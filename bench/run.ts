// `npm run bench`: engine throughput and candidate overhead per back end (onnxruntime-node,
// onnxruntime-web WASM in Node, WASM with threads in headless Chromium, WebGPU when a real adapter
// exists), AAQ cost beside POT's schedule, the savings of each optimisation, and the deployment
// gain of the exported QDQ models. Writes bench/results.json and bench/results.md.
//
// Environment: AAQ_BENCH_REPS (rounds per measurement, default 5; 3 for the larger PaddleOCR
// input), AAQ_BENCH_MODELS (comma-separated subset), AAQ_BENCH_POT=0 (skip the POT-faithful AAQ
// runs), AAQ_BENCH_CHROMIUM=0 (skip the browser).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createNodeEngine } from '../src/node/engines';
import { runDataset } from '../src/core/engine/runner';
import type { SessionInfo } from '../src/core/types';
import { runChromium, type ChromiumResult } from './browser/chromium';
import { machineInfo } from './lib/machine';
import { defaultAaqParams } from '../src/core/config/defaults';
import { measureBackEnd, memoryDataset, type MeasureResult } from './lib/measure';
import { disposeModel, prepareModel, type BenchModel } from './lib/prepare';
import { nativeProfile } from './lib/profile';
import { markdown, summarize, type AaqRun, type BenchResults } from './lib/report';

/** POT's default maximal_drop (src/core/config/defaults.ts). */
const POT_DEFAULT_MAXIMAL_DROP = defaultAaqParams('ANY').maximal_drop;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MODELS = ['fmnist-cnn', 'fmnist-resnet', 'fmnist-mobilenet', 'ppocr-cls'].filter((m) => !process.env.AAQ_BENCH_MODELS || process.env.AAQ_BENCH_MODELS.split(',').includes(m));
const REPS = Number(process.env.AAQ_BENCH_REPS ?? 5);
const SAMPLES = 300;
const BATCH = 16;
const t0 = performance.now();
const log = (m: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0)}s] ${m}\n`);
const repsFor = (name: string) => (name === 'ppocr-cls' ? Math.min(REPS, 3) : REPS);
/** More rounds in Chromium for the small models: its timings are the noisiest. */
const chromiumReps = (name: string) => (name === 'ppocr-cls' ? REPS : Math.max(REPS, 15));

// `npm run bench -- --report`: re-render bench/results.md from bench/results.json (no measuring).
if (process.argv.includes('--report')) {
  const saved = JSON.parse(readFileSync(join(ROOT, 'bench/results.json'), 'utf8')) as BenchResults;
  writeFileSync(join(ROOT, 'bench/results.md'), markdown(saved));
  log('re-rendered bench/results.md from bench/results.json');
  process.exit(0);
}
const machine = machineInfo();
log(`${machine.cpu}, ${machine.nproc} cores, ${machine.ramGiB} GiB`);

// ---- engine throughput and candidate overhead
const prepared: BenchModel[] = [];
for (const name of MODELS) prepared.push(await prepareModel(name, join(ROOT, 'bench/configs', `${name}.json`), SAMPLES));
const engines: Record<string, Record<string, MeasureResult>> = { native: {}, 'wasm-node': {} };
for (const kind of ['native', 'wasm'] as const) {
  const engine = await createNodeEngine(kind);
  const key = kind === 'native' ? 'native' : 'wasm-node';
  for (const m of prepared) {
    log(`${key}: ${m.name}`);
    engines[key][m.name] = await measureBackEnd({
      engine,
      model: m.setup.model,
      dataset: memoryDataset(m.x, m.y, m.sampleShape),
      metrics: m.metrics,
      params: m.params,
      state: m.state,
      samples: SAMPLES,
      batch: BATCH,
      reps: repsFor(m.name),
      log: (s) => log(`  ${s}`),
    });
  }
  await engine.dispose();
}
let chromium: ChromiumResult | { error: string } | null = null;
if (process.env.AAQ_BENCH_CHROMIUM !== '0') {
  // Native FP32 passes alternate with Chromium's for the WASM-vs-native throughput ratio.
  const native = await createNodeEngine('native');
  const sessions = new Map<string, SessionInfo>();
  const nativePass = async (name: string) => {
    const m = prepared.find((x) => x.name === name)!;
    let s = sessions.get(name);
    if (!s) sessions.set(name, (s = await native.createSession(m.model)));
    const t = performance.now();
    await runDataset(
      native,
      s,
      memoryDataset(m.x, m.y, m.sampleShape),
      Array.from({ length: SAMPLES }, (_, i) => i % m.y.length),
      {
        inputName: m.setup.backend.inputName,
        outputName: m.setup.backend.outputName,
        batchSize: BATCH,
        keepOutputs: false,
      },
    );
    return performance.now() - t;
  };
  try {
    chromium = await runChromium(
      prepared.map((m) => ({
        spec: { name: m.name, params: m.params, state: m.state, metrics: m.metrics, sampleShape: m.sampleShape, samples: SAMPLES, batch: BATCH, reps: chromiumReps(m.name) },
        model: m.model,
        x: m.x,
        y: m.y,
      })),
      machine.nproc,
      log,
      [
        ['fmnist-cnn', 'fp32'],
        ['fmnist-cnn', 'switchable'],
        ['ppocr-cls', 'fp32'],
        ['ppocr-cls', 'switchable'],
      ],
      nativePass,
    );
  } catch (e) {
    chromium = { error: (e as Error).message };
    log(`chromium failed: ${(e as Error).message}`);
  }
  await native.dispose();
}
// Where the time goes: FP32 per-operator profile of the CNN, natively (Chromium's is taken above).
let nativeProfileCnn: BenchResults['nativeProfile'] = undefined;
const cnn = prepared.find((m) => m.name === 'fmnist-cnn');
if (cnn) {
  const len = cnn.sampleShape.reduce((a, b) => a * b, 1);
  nativeProfileCnn = {
    model: cnn.name,
    runs: 20,
    trace: await nativeProfile(cnn.model, cnn.x.slice(0, BATCH * len), [BATCH, ...cnn.sampleShape], 20, join(ROOT, 'bench/.build/profile')),
  };
}
for (const m of prepared) await disposeModel(m);

// ---- AAQ runs, each in its own process (peak memory of the run alone)
const runDir = join(ROOT, 'bench/.build/runs');
rmSync(runDir, { recursive: true, force: true });
mkdirSync(runDir, { recursive: true });
function child(name: string, pot: boolean, maximalDrop?: number): AaqRun | { error: string } {
  const tag = `${name}${pot ? '-pot' : ''}${maximalDrop !== undefined ? `-drop${maximalDrop}` : ''}`;
  log(`AAQ ${pot ? 'POT-faithful ' : ''}run: ${name}${maximalDrop !== undefined ? ` at maximal_drop ${maximalDrop}` : ''}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/aaq-child.ts'), join(ROOT, 'bench/configs', `${name}.json`), runDir, tag, ...(pot ? ['pot'] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, ...(maximalDrop !== undefined ? { AAQ_CHILD_MAXIMAL_DROP: String(maximalDrop) } : {}) },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ') };
  return JSON.parse(line) as AaqRun;
}
const aaq: BenchResults['aaq'] = {};
for (const name of MODELS) {
  aaq[name] = { default: child(name, false) };
  if (process.env.AAQ_BENCH_POT !== '0') aaq[name].pot = child(name, true);
  // The same model at POT's default maximal_drop, where a config asks for a stricter one: which
  // model needs reverting at all without forcing it.
  const d = aaq[name].default;
  const drop = 'report' in d ? (d.report.params as { maximal_drop?: number }).maximal_drop : undefined;
  if (drop !== undefined && drop !== POT_DEFAULT_MAXIMAL_DROP) aaq[name].atDefaultDrop = child(name, false, POT_DEFAULT_MAXIMAL_DROP);
}

const results: BenchResults = {
  date: new Date().toISOString(),
  wallSeconds: 0,
  machine,
  settings: { samples: SAMPLES, batch: BATCH, reps: REPS },
  engines,
  chromium,
  nativeProfile: nativeProfileCnn,
  aaq,
};
results.wallSeconds = (performance.now() - t0) / 1000;
results.machine.load.end = Math.round(loadavg()[0] * 100) / 100;
writeFileSync(join(ROOT, 'bench/results.json'), JSON.stringify(summarize(results), null, 1) + '\n');
writeFileSync(join(ROOT, 'bench/results.md'), markdown(results));
log(`wrote bench/results.md and bench/results.json in ${results.wallSeconds.toFixed(0)} s`);
process.exit(0);
