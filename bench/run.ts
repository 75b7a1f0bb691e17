// `npm run bench`: engine throughput and candidate overhead per back end (onnxruntime-node,
// onnxruntime-web WASM in Node, WASM with threads in headless Chromium, WebGPU when a real adapter
// exists), AAQ cost beside POT's schedule, the savings of each optimisation, and the deployment
// gain of the exported QDQ models. Writes bench/results.json and bench/results.md.
//
// Environment: AAQ_BENCH_REPS (rounds per measurement, default 5; 3 for the larger PaddleOCR
// input), AAQ_BENCH_MODELS (comma-separated subset), AAQ_BENCH_POT=0 (skip the POT-faithful AAQ
// runs), AAQ_BENCH_CHROMIUM=0 (skip the browser), AAQ_BENCH_OUT (folder for results.json and
// results.md, default bench/; `--report` reads and writes there too).
//
// Real-size section (bench/lib/real-size.ts; ImageNet-sized models on 224×224 JPEGs, fixtures
// made by bench/real/make-fixtures.py under .aaq-tmp/real/ when missing — about 25 minutes on
// 2 cores with the defaults): AAQ_BENCH_REAL=0 skips it; AAQ_BENCH_REAL_ONLY=1 runs only it and
// merges it into the results already in AAQ_BENCH_OUT (key real_size); AAQ_BENCH_REAL_MODELS
// (mobilenet_v2,resnet50,efficientnet_b0), AAQ_BENCH_REAL_ENGINES (native,wasm),
// AAQ_BENCH_REAL_SIZES (images measured natively, default 300,1000; any of 300,600,1000,3000),
// AAQ_BENCH_REAL_WASM_SIZES (default 300), AAQ_BENCH_REAL_REPORT (sizes shown, estimated where not
// measured; default 300,1000,3000), AAQ_BENCH_REAL_REPS (default 1),
// AAQ_BENCH_REAL_STATS_REPS (rounds of the statistics pass, default 1), AAQ_BENCH_REAL_DQ=0 (skip
// the CLI DefaultQuantization runs).
//
// Deployment section (bench/lib/deployment.ts; issue 12): latency at batch 1 and 16, size and measured
// top-1 of FP32 and of each export (placements ANY / ONNXRUNTIME, AAQ revert modes) per model and back end.
// AAQ_BENCH_DEPLOY=0 skips it; AAQ_BENCH_DEPLOY_ONLY=1 runs only it and merges it into the results
// already in AAQ_BENCH_OUT (rows of other models/back ends kept); AAQ_BENCH_DEPLOY_MODELS,
// AAQ_BENCH_DEPLOY_ENGINES (native,wasm), AAQ_BENCH_DEPLOY_EXPORTS, AAQ_BENCH_DEPLOY_ROUNDS (3).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
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
import { markdown, realSizeMarkdown, summarize, type AaqRun, type BenchResults } from './lib/report';
import { realSizeOptionsFromEnv, runRealSize, type RealSizeResults } from './lib/real-size';
import { deploymentMarkdown, deploymentOptionsFromEnv, runDeployment, type DeploymentResults } from './lib/deployment';

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

/** Where results.json and results.md go (AAQ_BENCH_OUT, default bench/). */
const OUT = resolve(ROOT, process.env.AAQ_BENCH_OUT ?? 'bench');
const outName = (f: string) => relative(ROOT, join(OUT, f)) || f;
/** Saved results: a whole bench run, or only its real-size section (AAQ_BENCH_REAL_ONLY=1 on an empty AAQ_BENCH_OUT). */
type Saved = BenchResults | { real_size?: RealSizeResults; deployment?: DeploymentResults };
const render = (r: Saved) =>
  'aaq' in r ? markdown(r) : [r.real_size ? realSizeMarkdown(r.real_size) : '', r.deployment ? deploymentMarkdown(r.deployment) : ''].filter(Boolean).join('\n');
function writeResults(r: Saved): void {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'results.json'), JSON.stringify('aaq' in r ? summarize(r) : r, null, 1) + '\n');
  writeFileSync(join(OUT, 'results.md'), render(r));
}

// `npm run bench -- --report`: re-render results.md from results.json (no measuring).
if (process.argv.includes('--report')) {
  const saved = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8')) as Saved;
  writeFileSync(join(OUT, 'results.md'), render(saved));
  log(`re-rendered ${outName('results.md')} from ${outName('results.json')}`);
  process.exit(0);
}
// AAQ_BENCH_REAL_ONLY=1: the real-size section alone, merged into the results already there.
if (process.env.AAQ_BENCH_REAL_ONLY === '1') {
  const real = await runRealSize(realSizeOptionsFromEnv(ROOT, log));
  const file = join(OUT, 'results.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Saved) : null;
  writeResults(saved ? { ...saved, real_size: real } : { real_size: real });
  log(`wrote the real-size section into ${outName('results.md')} and ${outName('results.json')} in ${real.wallSeconds.toFixed(0)} s`);
  process.exit(0);
}
// AAQ_BENCH_DEPLOY_ONLY=1: the deployment section alone, merged into the results already there.
if (process.env.AAQ_BENCH_DEPLOY_ONLY === '1') {
  const deployment = await runDeployment(deploymentOptionsFromEnv(ROOT, log));
  const file = join(OUT, 'results.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Saved) : null;
  // rows of other models / back ends already there are kept
  const kept = (saved?.deployment?.rows ?? []).filter((r) => !deployment.rows.some((q) => q.model === r.model && q.engine === r.engine));
  deployment.rows = [...kept, ...deployment.rows];
  writeResults(saved ? { ...saved, deployment } : { deployment });
  log(`wrote the deployment section into ${outName('results.md')} and ${outName('results.json')} in ${deployment.wallSeconds.toFixed(0)} s`);
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

// ---- real-size models (bench/lib/real-size.ts)
let realSize: RealSizeResults | undefined;
if (process.env.AAQ_BENCH_REAL !== '0') realSize = await runRealSize(realSizeOptionsFromEnv(ROOT, log));

// ---- deployment: the exported models as onnxruntime runs them (bench/lib/deployment.ts)
const deployment = process.env.AAQ_BENCH_DEPLOY !== '0' ? await runDeployment(deploymentOptionsFromEnv(ROOT, log)) : undefined;

const results: BenchResults = {
  date: new Date().toISOString(),
  wallSeconds: 0,
  machine,
  settings: { samples: SAMPLES, batch: BATCH, reps: REPS },
  engines,
  chromium,
  nativeProfile: nativeProfileCnn,
  aaq,
  ...(realSize ? { real_size: realSize } : {}),
  ...(deployment ? { deployment } : {}),
};
results.wallSeconds = (performance.now() - t0) / 1000;
results.machine.load.end = Math.round(loadavg()[0] * 100) / 100;
writeResults(results);
log(`wrote ${outName('results.md')} and ${outName('results.json')} in ${results.wallSeconds.toFixed(0)} s`);
process.exit(0);
