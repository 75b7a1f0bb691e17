// Real-size section of `npm run bench` (issue 11): what AAQ costs on ImageNet-sized models —
// torchvision's MobileNetV2, ResNet-50 and EfficientNet-B0 at 224×224 (random weights, BatchNorm
// statistics re-estimated) on folders of 224×224 JPEGs — against a plain onnxruntime FP32 pass.
//
// Per model, engine (onnxruntime-node; onnxruntime-web WASM in Node) and number of images N:
//  - decoding: reading, decoding (jpeg-js) and preprocessing the N images, one after the other;
//  - FP32 passes from memory (the decoded tensors) with onnxruntime's default options and with AAQ's
//    exact options (EXACT_SESSION_OPTIONS: what AAQ's FP32 and switchable sessions use), and one
//    with the default options reading the images (decoding overlapping inference as the runner does);
//  - the statistics pass of DefaultQuantization over all N (stat_subset_size N, from memory; its
//    session's creation excluded, ranges and bias correction reported apart);
//  - one ranking candidate (the quantized state with its middle group reverted) on the switchable
//    session, run whole over the N samples (the session's creation reported apart);
//  - DefaultQuantization end to end through the CLI in its own process (`aaq quantize` under
//    /usr/bin/time -v: wall time and peak RSS), on the config's stat_subset_size (300).
// Sizes not measured (the time-box: 3,000 images of ResNet-50 on 2 cores) are estimated from the
// measured ones (a line through two sizes, or proportional to N from one) and labelled so.
//
// Fixtures: .aaq-tmp/real/ (bench/real/make-fixtures.py; made here when missing).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { DefaultQuantizationParams } from '../../src/core/config/types';
import { revertGroup, type QuantState } from '../../src/core/algorithms/backend';
import { runDataset } from '../../src/core/engine/runner';
import { OnnxQuantizationBackend } from '../../src/core/evaluation/onnx-backend';
import { encodeModel } from '../../src/core/onnx/proto';
import { EXACT_SESSION_OPTIONS } from '../../src/core/quant/switchable';
import type { Dataset, Engine, SessionInfo } from '../../src/core/types';
import type { NodeEngineKind } from '../../src/node/engines';
import { prepareRun } from '../../src/node/run-setup';
import { memoryDataset } from './measure';
import { median } from './timing';

export const REAL_MODELS = ['mobilenet_v2', 'resnet50', 'efficientnet_b0'] as const;
/** Image folders the fixture script makes (the first N of 3,000). */
export const REAL_FIXTURE_SIZES = [300, 600, 1000, 3000];

type Failed = { error: string };

export interface RealRun {
  model: string;
  engine: NodeEngineKind;
  samples: number;
  /** Set when the figures are estimated from other sizes rather than measured. */
  estimated?: { from: number[]; how: 'linear' | 'proportional' };
  /** Reading + decoding + preprocessing all the images, one after the other (ms). */
  decodeMs: number;
  /** One FP32 pass over the N samples (ms): from memory with onnxruntime's default options and
   *  with AAQ's exact options; reading the images, default options. */
  fp32: { defaultMs: number; exactMs: number; withDecodingMs: number };
  /** DefaultQuantization's statistics pass over the N samples from memory (ms; session creation
   *  excluded), the whole quantize() (statistics session, pass, ranges, bias correction) and its
   *  part before the pass (statistics model built, its session created). */
  statistics: { passMs: number; quantizeMs: number; samples: number; sessionMs: number; ratio?: number };
  /** One ranking candidate run whole over the N samples on the switchable session (ms), and that
   *  session's creation (+ its first batch).
   *
   *  Ratios (`ratio`) are taken against an FP32 pass timed right next to the figure, so that load
   *  from elsewhere on a shared machine hits both alike: statistics ÷ the FP32 default-options pass
   *  from memory just before it; candidate ÷ the exact-options pass just before it; DefaultQuantization
   *  ÷ the mean of the FP32 default-options passes reading the images just before and after it. */
  candidate: { passMs: number; createMs: number; groups: number; ratio?: number } | null;
  /** `aaq quantize` (DefaultQuantization) in its own process: wall time seen from outside (node
   *  start and module loading included), the run's own total (report timings.total), its phases,
   *  and peak RSS (/usr/bin/time -v, else VmHWM polled). */
  dq:
    | {
        wallMs: number;
        runMs: number;
        maxRssKB: number | null;
        timings: Record<string, number>;
        inferences: number;
        sessions: number;
        statSubset: number;
        fp32AroundMs?: number;
        ratio?: number;
      }
    | Failed
    | null;
}

export interface RealSizeResults {
  date: string;
  wallSeconds: number;
  settings: { batch: number; reps: number; statsReps?: number; models: string[]; sizes: Record<string, number[]>; estimated: number[]; threads: string };
  fixtures: { images: string; models: Record<string, { bytes: number; params: number }>; versions?: Record<string, string> };
  load: { start: number; end?: number };
  /** The code measured: the commit, and whether src/ had uncommitted changes (AAQ_BENCH_SOURCE overrides). */
  source?: string;
  runs: RealRun[];
}

export interface RealSizeOptions {
  root: string;
  models: string[];
  engines: NodeEngineKind[];
  /** Sizes measured per engine. */
  sizes: Record<NodeEngineKind, number[]>;
  /** Sizes reported for every model and engine: measured, or estimated from the measured ones. */
  report: number[];
  /** Timed rounds of the decoding, FP32 passes and ranking candidate. */
  reps: number;
  /** Timed rounds of the statistics pass (the slowest figure). */
  statsReps: number;
  batch: number;
  dq: boolean;
  log: (m: string) => void;
}

const now = () => performance.now();
const intList = (s: string | undefined, d: number[]) =>
  s
    ? s
        .split(',')
        .map((x) => Number(x.trim()))
        .filter((x) => Number.isInteger(x) && x > 0)
    : d;

/** Options from the environment (see bench/run.ts's header). */
export function realSizeOptionsFromEnv(root: string, log: (m: string) => void): RealSizeOptions {
  const env = process.env;
  const models = env.AAQ_BENCH_REAL_MODELS ? env.AAQ_BENCH_REAL_MODELS.split(',').filter(Boolean) : [...REAL_MODELS];
  for (const m of models) if (!(REAL_MODELS as readonly string[]).includes(m)) throw new Error(`AAQ_BENCH_REAL_MODELS: unknown model '${m}' (expected ${REAL_MODELS.join(', ')})`);
  const engines = (env.AAQ_BENCH_REAL_ENGINES ?? 'native,wasm').split(',').filter(Boolean) as NodeEngineKind[];
  for (const e of engines) if (e !== 'native' && e !== 'wasm') throw new Error(`AAQ_BENCH_REAL_ENGINES: unknown engine '${e}' (expected native, wasm)`);
  const sizes = { native: intList(env.AAQ_BENCH_REAL_SIZES, [300, 1000]), wasm: intList(env.AAQ_BENCH_REAL_WASM_SIZES, [300]) };
  for (const n of [...sizes.native, ...sizes.wasm])
    if (!REAL_FIXTURE_SIZES.includes(n)) throw new Error(`real-size bench: no image folder of ${n} images (sizes: ${REAL_FIXTURE_SIZES.join(', ')})`);
  const report = [...new Set([...intList(env.AAQ_BENCH_REAL_REPORT, [300, 1000, 3000]), ...sizes.native, ...sizes.wasm])].sort((a, b) => a - b);
  return {
    root,
    models,
    engines,
    sizes,
    report,
    reps: Number(env.AAQ_BENCH_REAL_REPS ?? 1),
    statsReps: Number(env.AAQ_BENCH_REAL_STATS_REPS ?? 1),
    batch: 16,
    dq: env.AAQ_BENCH_REAL_DQ !== '0',
    log,
  };
}

export function fixtureDir(root: string): string {
  return join(root, '.aaq-tmp/real');
}

/** The fixtures exist, or are made now by bench/real/make-fixtures.py (Debian's python3-torch). */
export function ensureRealFixtures(root: string, models: string[], log: (m: string) => void): void {
  const dir = fixtureDir(root);
  const missing = [
    ...models.filter((m) => !existsSync(join(dir, `${m}.onnx`))),
    ...REAL_FIXTURE_SIZES.filter((n) => !existsSync(join(dir, `fmnist-${n}`, '.complete'))).map((n) => `fmnist-${n}/`),
  ];
  if (!missing.length) return;
  const how =
    'apt-get install -y python3-torch python3-torchvision python3-pil dataset-fashion-mnist && /usr/bin/python3 bench/real/make-fixtures.py (or AAQ_BENCH_REAL=0 to skip the real-size section)';
  const py = '/usr/bin/python3';
  if (!existsSync(py)) throw new Error(`real-size fixtures missing in ${dir} (${missing.join(', ')}); make them with: ${how}`);
  log(`real-size fixtures missing (${missing.join(', ')}): running bench/real/make-fixtures.py`);
  const r = spawnSync(py, [join(root, 'bench/real/make-fixtures.py'), '--out', dir, '--models', models.join(',')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench/real/make-fixtures.py failed (exit ${r.status}); it needs: ${how}`);
}

function sourceInfo(root: string): string {
  if (process.env.AAQ_BENCH_SOURCE) return process.env.AAQ_BENCH_SOURCE;
  const git = (args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head.status !== 0) return 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src']).stdout.trim();
  return `${head.stdout.trim()}${dirty ? ' with uncommitted changes in src/' : ''}`;
}

function fixtureInfo(root: string): RealSizeResults['fixtures'] {
  try {
    const m = JSON.parse(readFileSync(join(fixtureDir(root), 'manifest.json'), 'utf8')) as {
      images: { source: string };
      models: Record<string, { bytes: number; params: number }>;
      versions: Record<string, string>;
    };
    return { images: m.images.source, models: m.models, versions: m.versions };
  } catch {
    return { images: '?', models: {} };
  }
}

// ---------------------------------------------------------------------------------------------

async function timedPass(engine: Engine, s: SessionInfo, ds: Dataset, indices: number[], io: { inputName: string; outputName: string }, batch: number): Promise<number> {
  const t = now();
  await runDataset(engine, s, ds, indices, { ...io, batchSize: batch, keepOutputs: false });
  return now() - t;
}

/** Peak RSS of a finished `/usr/bin/time -v` child, KiB. */
function timeVmaxRss(file: string): number | null {
  try {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** DefaultQuantization end to end through the CLI, in its own process. */
function dqChild(o: RealSizeOptions, model: string, engine: NodeEngineKind, n: number): Exclude<RealRun['dq'], null> {
  const dir = join(o.root, 'bench/.build/real', `${model}-${engine}-${n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cli = [
    '--import',
    'tsx',
    join(o.root, 'src/cli/main.ts'),
    'quantize',
    '-q',
    '-c',
    join(o.root, 'bench/configs', `real-${model}.json`),
    '-d',
    join(fixtureDir(o.root), `fmnist-${n}`),
    '-o',
    join(dir, 'qdq.onnx'),
    '-r',
    join(dir, 'report.json'),
    '--engine',
    engine,
  ];
  const timeFile = join(dir, 'time.txt');
  const useTime = existsSync('/usr/bin/time');
  const t = now();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-v', '-o', timeFile, process.execPath, ...cli], { cwd: o.root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    : spawnSync(process.execPath, cli, { cwd: o.root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const wallMs = now() - t;
  if (r.status !== 0) return { error: `aaq quantize exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}` };
  const rep = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
    timings: Record<string, number>;
    counts: { inferences: number; sessions: number };
    params: { stat_subset_size?: number };
  };
  rmSync(join(dir, 'qdq.onnx'), { force: true }); // 25–100 MB each
  return {
    wallMs,
    runMs: rep.timings.total,
    maxRssKB: useTime ? timeVmaxRss(timeFile) : null,
    timings: rep.timings,
    inferences: rep.counts.inferences,
    sessions: rep.counts.sessions,
    statSubset: Math.min(rep.params.stat_subset_size ?? 300, n),
  };
}

/** One model × engine × size, measured. */
async function measureOne(o: RealSizeOptions, model: string, kind: NodeEngineKind, n: number): Promise<RealRun> {
  const log = (m: string) => o.log(`  ${model} ${kind} ${n}: ${m}`);
  const setup = await prepareRun({ config: join(o.root, 'bench/configs', `real-${model}.json`), data: join(fixtureDir(o.root), `fmnist-${n}`), engine: kind, batch: o.batch });
  const engine = setup.engine;
  const ds = setup.dataset;
  if (ds.size !== n) throw new Error(`fmnist-${n} holds ${ds.size} images`);
  const io = { inputName: setup.backend.inputName, outputName: setup.backend.outputName };
  const all = Array.from({ length: n }, (_, i) => i);
  const reps = Math.max(1, o.reps);

  // decoding
  const shape = ds.sampleShape;
  const len = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * len);
  const y = new Int32Array(n);
  const decodes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    for (let i = 0; i < n; i++) {
      const s = await ds.get(i);
      x.set(s.input, i * len);
      y[i] = s.label;
    }
    decodes.push(now() - t);
  }
  const decodeMs = median(decodes);
  log(`decoding ${decodeMs.toFixed(0)} ms`);
  const mem = memoryDataset(x, y, shape);

  // FP32 passes (a warm-up batch each first)
  const bytes = encodeModel(setup.model);
  const sDef = await engine.createSession(bytes);
  const sExact = await engine.createSession(bytes, EXACT_SESSION_OPTIONS as unknown as Record<string, unknown>);
  await timedPass(engine, sDef, mem, all.slice(0, o.batch), io, o.batch);
  await timedPass(engine, sExact, mem, all.slice(0, o.batch), io, o.batch);
  const fp = { def: [] as number[], exact: [] as number[], files: [] as number[] };
  for (let r = 0; r < reps; r++) {
    fp.def.push(await timedPass(engine, sDef, mem, all, io, o.batch));
    fp.exact.push(await timedPass(engine, sExact, mem, all, io, o.batch));
    fp.files.push(await timedPass(engine, sDef, ds, all, io, o.batch));
  }
  const fp32 = { defaultMs: median(fp.def), exactMs: median(fp.exact), withDecodingMs: median(fp.files) };
  log(`FP32 default ${fp32.defaultMs.toFixed(0)} ms, exact ${fp32.exactMs.toFixed(0)} ms, with decoding ${fp32.withDecodingMs.toFixed(0)} ms`);
  // The run's own backend (and its FP32 session) is not needed any more.
  await setup.backend.dispose();

  // statistics pass over all N, then one ranking candidate on the same backend
  const params = { ...(setup.algorithm.params as DefaultQuantizationParams), stat_subset_size: n };
  const backend = () =>
    new OnnxQuantizationBackend({
      engine,
      model: setup.model,
      dataset: mem,
      metrics: setup.metrics,
      placementParams: params,
      batchSize: o.batch,
      mode: 'switchable',
      sampleCacheBytes: 0,
      prefixCache: false,
    });
  const st = { pass: [] as number[], quantize: [] as number[], session: [] as number[], ratio: [] as number[] };
  let be = backend();
  let state: QuantState | null = null;
  for (let r = 0; r < Math.max(1, o.statsReps); r++) {
    if (r) {
      await be.dispose();
      be = backend();
    }
    const f = await timedPass(engine, sDef, mem, all, io, o.batch);
    const t = now();
    state = await be.quantize(params);
    const q = now() - t;
    st.quantize.push(q);
    st.pass.push(be.timings.statistics ?? NaN);
    st.ratio.push((be.timings.statistics ?? NaN) / f);
    st.session.push(q - (be.timings.statistics ?? 0) - (be.timings.quantize ?? 0));
  }
  const statistics = { passMs: median(st.pass), quantizeMs: median(st.quantize), sessionMs: median(st.session), samples: n, ratio: median(st.ratio) };
  log(`statistics pass ${statistics.passMs.toFixed(0)} ms (quantize ${statistics.quantizeMs.toFixed(0)} ms; ${statistics.ratio.toFixed(2)} × the FP32 pass next to it)`);
  let candidate: RealRun['candidate'] = null;
  const groups = be.groups(state!);
  if (groups.length) {
    let t = now();
    await be.evaluate(state!, all.slice(0, o.batch));
    const createMs = now() - t;
    const ms: number[] = [];
    const ratio: number[] = [];
    for (let r = 0; r < reps; r++) {
      const g = groups[(groups.length >> 1) + r] ?? groups[0];
      const f = await timedPass(engine, sExact, mem, all, io, o.batch);
      t = now();
      await be.evaluate(revertGroup(state!, g), all);
      ms.push(now() - t);
      ratio.push(ms[r] / f);
    }
    candidate = { passMs: median(ms), createMs, groups: groups.length, ratio: median(ratio) };
    log(`ranking candidate ${candidate.passMs.toFixed(0)} ms (${candidate.ratio!.toFixed(2)} × the exact FP32 pass next to it; switchable session ${createMs.toFixed(0)} ms)`);
  }
  await be.dispose();
  await engine.release(sExact);

  let dq: RealRun['dq'] = null;
  if (o.dq) {
    // FP32 reading the images right before and after the run: its ratio's denominator.
    const before = await timedPass(engine, sDef, ds, all, io, o.batch);
    const r = dqChild(o, model, kind, n);
    const after = await timedPass(engine, sDef, ds, all, io, o.batch);
    if ('error' in r) log(`DefaultQuantization failed: ${r.error}`);
    else {
      r.fp32AroundMs = (before + after) / 2;
      r.ratio = r.wallMs / r.fp32AroundMs;
      log(
        `DefaultQuantization ${(r.wallMs / 1000).toFixed(1)} s (${r.ratio.toFixed(2)} × the FP32 passes around it), peak RSS ${r.maxRssKB ? (r.maxRssKB / 1024).toFixed(0) : '?'} MiB`,
      );
    }
    dq = r;
  }
  await engine.release(sDef);
  await engine.dispose();
  return { model, engine: kind, samples: n, decodeMs, fp32, statistics, candidate, dq };
}

/** A size not measured, from the measured ones: a line a + b·N through the two nearest sizes, or
 *  proportional to N from one. Peak RSS is not estimated. */
export function estimateRun(measured: RealRun[], n: number): RealRun | null {
  const ms = [...measured].sort((a, b) => Math.abs(a.samples - n) - Math.abs(b.samples - n)).slice(0, 2);
  if (!ms.length) return null;
  ms.sort((a, b) => a.samples - b.samples);
  const lin = ms.length === 2;
  const est = (f: (r: RealRun) => number | undefined): number => {
    const v = ms.map(f);
    if (v.some((x) => x === undefined || !Number.isFinite(x))) return NaN;
    if (!lin) return (v[0]! * n) / ms[0].samples;
    const b = (v[1]! - v[0]!) / (ms[1].samples - ms[0].samples);
    return v[0]! + b * (n - ms[0].samples);
  };
  const base = ms[ms.length - 1];
  const okDq = ms.every((r) => r.dq && !('error' in r.dq));
  type Dq = Exclude<RealRun['dq'], Failed | null>;
  const dqOf = (r: RealRun) => r.dq as Dq;
  return {
    model: base.model,
    engine: base.engine,
    samples: n,
    estimated: { from: ms.map((r) => r.samples), how: lin ? 'linear' : 'proportional' },
    decodeMs: est((r) => r.decodeMs),
    fp32: { defaultMs: est((r) => r.fp32.defaultMs), exactMs: est((r) => r.fp32.exactMs), withDecodingMs: est((r) => r.fp32.withDecodingMs) },
    statistics: { passMs: est((r) => r.statistics.passMs), quantizeMs: est((r) => r.statistics.quantizeMs), sessionMs: est((r) => r.statistics.sessionMs), samples: n },
    candidate: ms.every((r) => r.candidate) ? { passMs: est((r) => r.candidate!.passMs), createMs: est((r) => r.candidate!.createMs), groups: base.candidate!.groups } : null,
    dq: okDq
      ? {
          wallMs: est((r) => dqOf(r).wallMs),
          runMs: est((r) => dqOf(r).runMs),
          maxRssKB: null,
          timings: {},
          inferences: est((r) => dqOf(r).inferences),
          sessions: dqOf(base).sessions,
          statSubset: Math.min(dqOf(base).statSubset, n),
        }
      : null,
  };
}

export async function runRealSize(o: RealSizeOptions): Promise<RealSizeResults> {
  const t0 = now();
  const load = { start: Math.round(loadavg()[0] * 100) / 100 } as RealSizeResults['load'];
  ensureRealFixtures(o.root, o.models, o.log);
  const runs: RealRun[] = [];
  for (const model of o.models) {
    for (const kind of o.engines) {
      const measured: RealRun[] = [];
      for (const n of o.sizes[kind]) {
        o.log(`real size: ${model} on ${kind}, ${n} images`);
        try {
          measured.push(await measureOne(o, model, kind, n));
        } catch (e) {
          o.log(`real size: ${model} on ${kind}, ${n} images failed: ${(e as Error).message}`);
        }
      }
      runs.push(...measured);
      for (const n of o.report) {
        if (measured.some((r) => r.samples === n)) continue;
        const e = estimateRun(measured, n);
        if (e) runs.push(e);
      }
    }
  }
  runs.sort((a, b) => o.models.indexOf(a.model) - o.models.indexOf(b.model) || o.engines.indexOf(a.engine) - o.engines.indexOf(b.engine) || a.samples - b.samples);
  load.end = Math.round(loadavg()[0] * 100) / 100;
  return {
    date: new Date().toISOString(),
    wallSeconds: (now() - t0) / 1000,
    settings: {
      batch: o.batch,
      reps: o.reps,
      statsReps: o.statsReps,
      models: o.models,
      sizes: o.sizes,
      estimated: o.report,
      threads: "onnxruntime-node's default intra-op threads; WASM: 1 thread",
    },
    fixtures: fixtureInfo(o.root),
    load,
    source: sourceInfo(o.root),
    runs,
  };
}
