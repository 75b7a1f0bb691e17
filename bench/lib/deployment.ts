// Deployment section of `npm run bench` (issue 12): what the exported model gives the user who
// deploys it. Per model (the zoo configs and the real-size models at 224×224), per export and per
// back end (onnxruntime-node; onnxruntime-web WASM in Node, one thread):
//  - exports: FP32 (the model itself); DefaultQuantization's QDQ export with POT's placement
//    (target_device ANY) and with onnxruntime's (ONNXRUNTIME); for the AAQ configs, the
//    AccuracyAwareQuantization export (ONNXRUNTIME placement, the config's maximal_drop) in each
//    revert_mode (FP32, INT8_WEIGHTS);
//  - latency of one run at batch 1 and at batch 16 with onnxruntime's default session options
//    (its integer kernels for QDQ models): `rounds` rounds, each creating the session afresh and
//    timing runs for ~0.4 s after a warm-up; the figure is the lowest round median (the round least
//    disturbed by other load on a shared machine). One session is alive at a time (an idle
//    session's spinning threads slow the other on two cores), exports alternate within a round;
//  - file size;
//  - top-1 accuracy over the config's data (`samples`), and top-1 agreement with the FP32 model,
//    measured on the exported file as onnxruntime runs it;
//  - native only: the nodes onnxruntime ran as integer kernels (QLinear*, QGemm, MatMulInteger*)
//    and the DequantizeLinear nodes left in the graph it optimizes (optimizedModelFilePath).
//
// AAQ_BENCH_DEPLOY_ONLY=1 runs this section alone (merged into the results in AAQ_BENCH_OUT);
// AAQ_BENCH_DEPLOY=0 skips it in a full run; AAQ_BENCH_DEPLOY_MODELS (fmnist-cnn,…,real-resnet50),
// AAQ_BENCH_DEPLOY_ENGINES (native,wasm), AAQ_BENCH_DEPLOY_EXPORTS, AAQ_BENCH_DEPLOY_ROUNDS (3)
// narrow it down.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAccuracyAware } from '../../src/core/algorithms/accuracy-aware';
import type { AccuracyAwareParams, AlgorithmConfig, RevertMode, TargetDevice } from '../../src/core/config/types';
import { runDataset } from '../../src/core/engine/runner';
import { OnnxQuantizationBackend } from '../../src/core/evaluation/onnx-backend';
import { decodeModel, encodeModel, type ModelProto } from '../../src/core/onnx/proto';
import type { Dataset, Engine, SessionInfo } from '../../src/core/types';
import { createNodeEngine, type NodeEngineKind } from '../../src/node/engines';
import { prepareRun } from '../../src/node/run-setup';
import { memoryDataset } from './measure';
import { median } from './timing';

export const DEPLOY_EXPORTS = ['fp32', 'ANY', 'ONNXRUNTIME', 'aaq-FP32', 'aaq-INT8_WEIGHTS'] as const;
export type DeployExport = (typeof DEPLOY_EXPORTS)[number];

export interface DeployModel {
  name: string;
  config: string;
  /** Data override (--data), e.g. a real-size image folder. */
  data?: string;
  /** Samples the accuracy is measured on (default: all). */
  samples?: number;
}

export interface DeployRow {
  model: string;
  engine: NodeEngineKind;
  export: DeployExport;
  sizeBytes: number;
  batch1Ms: number;
  batch16Ms: number;
  /** Top-1 accuracy over `samples` (labelled data), and top-1 agreement with FP32 on the same samples. */
  accuracy: number | null;
  agreement: number;
  samples: number;
  /** Native only: nodes of the optimized graph run as integer kernels, and DequantizeLinear nodes left. */
  integerNodes?: number;
  dequantizeLeft?: number;
  error?: string;
}

export interface DeploymentResults {
  date: string;
  wallSeconds: number;
  rounds: number;
  rows: DeployRow[];
}

export interface DeploymentOptions {
  models: DeployModel[];
  engines: NodeEngineKind[];
  exports: DeployExport[];
  rounds: number;
  log: (m: string) => void;
}

const now = () => performance.now();
const INTEGER_OPS = /^(QLinear|QGemm|MatMulInteger|ConvInteger)/;
const list = (v: string | undefined) => (v ? v.split(',').filter(Boolean) : undefined);

/** The zoo configs and the real-size models (those whose fixtures exist, on 300 images). */
export function deployModels(root: string): DeployModel[] {
  const zoo = ['fmnist-cnn', 'fmnist-resnet', 'fmnist-mobilenet', 'ppocr-cls'].map((name) => ({ name, config: join(root, 'bench/configs', `${name}.json`) }));
  const real = ['mobilenet_v2', 'resnet50', 'efficientnet_b0']
    .filter((m) => existsSync(join(root, '.aaq-tmp/real', `${m}.onnx`)) && existsSync(join(root, '.aaq-tmp/real/fmnist-300')))
    .map((m) => ({ name: `real-${m}`, config: join(root, 'bench/configs', `real-${m}.json`), data: join(root, '.aaq-tmp/real/fmnist-300'), samples: 100 }));
  return [...zoo, ...real];
}

export function deploymentOptionsFromEnv(root: string, log: (m: string) => void): DeploymentOptions {
  const want = list(process.env.AAQ_BENCH_DEPLOY_MODELS);
  return {
    models: deployModels(root).filter((m) => !want || want.includes(m.name)),
    engines: (list(process.env.AAQ_BENCH_DEPLOY_ENGINES) ?? ['native', 'wasm']) as NodeEngineKind[],
    exports: (list(process.env.AAQ_BENCH_DEPLOY_EXPORTS) ?? [...DEPLOY_EXPORTS]) as DeployExport[],
    rounds: Number(process.env.AAQ_BENCH_DEPLOY_ROUNDS ?? 3),
    log,
  };
}

/** The QDQ export of DefaultQuantization with placement `e`, or of AccuracyAwareQuantization in revert mode `e` (null: not an AAQ config). */
async function quantizedExport(
  engine: Engine,
  model: ModelProto,
  dataset: Dataset,
  metrics: string[],
  algorithm: AlgorithmConfig,
  e: Exclude<DeployExport, 'fp32'>,
): Promise<Uint8Array | null> {
  const aaq = e.startsWith('aaq-');
  if (aaq && algorithm.name !== 'AccuracyAwareQuantization') return null;
  const params = { ...algorithm.params, target_device: (aaq ? 'ONNXRUNTIME' : e) as TargetDevice };
  const backend = new OnnxQuantizationBackend({
    engine,
    model,
    dataset,
    metrics,
    placementParams: params,
    batchSize: 16,
    mode: 'switchable',
    sampleCacheBytes: 0,
    prefixCache: aaq,
  });
  try {
    if (!aaq) return encodeModel(backend.exportModel(await backend.quantize(params)));
    const res = await runAccuracyAware(backend, { ...(params as AccuracyAwareParams), revert_mode: e.slice(4) as RevertMode });
    return encodeModel(backend.exportModel(res.state));
  } finally {
    await backend.dispose();
  }
}

/** Integer-kernel and DequantizeLinear node counts of the graph onnxruntime-node optimizes `bytes` into. */
export async function optimizedCounts(bytes: Uint8Array): Promise<{ integerNodes: number; dequantizeLeft: number; ops: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'aaq-opt-'));
  const file = join(dir, 'optimized.onnx');
  try {
    const engine = await createNodeEngine('native', { sessionOptions: { optimizedModelFilePath: file } as never });
    await engine.release(await engine.createSession(bytes));
    await engine.dispose();
    const ops: Record<string, number> = {};
    for (const n of decodeModel(readFileSync(file)).graph!.node ?? []) ops[n.opType ?? ''] = (ops[n.opType ?? ''] ?? 0) + 1;
    const integerNodes = Object.entries(ops)
      .filter(([o]) => INTEGER_OPS.test(o))
      .reduce((a, [, c]) => a + c, 0);
    return { integerNodes, dequantizeLeft: ops.DequantizeLinear ?? 0, ops };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median latency (ms) of one run of `batch` samples over ~0.4 s of runs (at least 3), after a warm-up run. */
async function latency(engine: Engine, s: SessionInfo, input: string, x: Float32Array, shape: number[], batch: number): Promise<number> {
  const len = shape.reduce((a, b) => a * b, 1);
  const n = x.length / len;
  const data = new Float32Array(batch * len);
  for (let b = 0; b < batch; b++) data.set(x.subarray((b % n) * len, ((b % n) + 1) * len), b * len);
  const feeds = { [input]: { type: 'float32' as const, dims: [batch, ...shape], data } };
  await engine.run(s, feeds);
  const times: number[] = [];
  const t0 = now();
  for (let r = 0; r < 200 && (r < 3 || now() - t0 < 400); r++) {
    const t = now();
    await engine.run(s, feeds);
    times.push(now() - t);
  }
  return median(times);
}

const argmax = (d: ArrayLike<number>) => {
  let k = 0;
  for (let i = 1; i < d.length; i++) if (d[i] > d[k]) k = i;
  return k;
};

export async function runDeployment(o: DeploymentOptions): Promise<DeploymentResults> {
  const t0 = now();
  const rows: DeployRow[] = [];
  for (const m of o.models) {
    o.log(`deployment: ${m.name}`);
    const setup = await prepareRun({ config: m.config, data: m.data, engine: 'native', batch: 16 });
    await setup.backend.dispose();
    const ds = setup.dataset;
    const n = Math.min(ds.size, m.samples ?? ds.size);
    const shape = ds.sampleShape;
    const len = shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n * len);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = await ds.get(i);
      x.set(s.input, i * len);
      y[i] = s.label;
    }
    const mem = memoryDataset(x, y, shape);
    const files = new Map<DeployExport, Uint8Array>([['fp32', encodeModel(setup.model)]]);
    for (const e of o.exports) {
      if (e === 'fp32') continue;
      const t = now();
      const bytes = await quantizedExport(setup.engine, setup.model, mem, setup.metrics, setup.algorithm, e).catch((err: unknown) => {
        o.log(`  ${e}: failed: ${err instanceof Error ? err.message : String(err)}`);
        return null;
      });
      if (bytes) files.set(e, bytes);
      if (bytes) o.log(`  ${e}: exported in ${((now() - t) / 1000).toFixed(1)} s`);
    }
    await setup.engine.dispose();
    const io = { inputName: setup.backend.inputName, outputName: setup.backend.outputName };
    const exports = [...files.keys()];
    for (const kind of o.engines) {
      const engine = await createNodeEngine(kind);
      const byExport = new Map<DeployExport, DeployRow>();
      const b1 = new Map<DeployExport, number[]>();
      const b16 = new Map<DeployExport, number[]>();
      let fp32Top: number[] | undefined;
      for (let round = 0; round < Math.max(1, o.rounds); round++) {
        for (const e of exports) {
          const bytes = files.get(e)!;
          const row = byExport.get(e) ?? {
            model: m.name,
            engine: kind,
            export: e,
            sizeBytes: bytes.length,
            batch1Ms: NaN,
            batch16Ms: NaN,
            accuracy: null,
            agreement: NaN,
            samples: n,
          };
          byExport.set(e, row);
          if (row.error) continue;
          try {
            const s = await engine.createSession(bytes);
            try {
              b1.set(e, [...(b1.get(e) ?? []), await latency(engine, s, io.inputName, x, shape, 1)]);
              b16.set(e, [...(b16.get(e) ?? []), await latency(engine, s, io.inputName, x, shape, 16)]);
              if (round === 0) {
                const res = await runDataset(
                  engine,
                  s,
                  mem,
                  Array.from({ length: n }, (_, i) => i),
                  { ...io, batchSize: 16, keepOutputs: true },
                );
                const top = res.outputs.map((t) => argmax(t.data as Float32Array));
                if (e === 'fp32') fp32Top = top;
                row.accuracy = y.some((v) => v >= 0) ? top.filter((t, i) => t === y[i]).length / n : null;
                row.agreement = fp32Top ? top.filter((t, i) => t === fp32Top![i]).length / n : NaN;
              }
            } finally {
              await engine.release(s);
            }
            if (round === 0 && kind === 'native' && e !== 'fp32') {
              const c = await optimizedCounts(bytes);
              row.integerNodes = c.integerNodes;
              row.dequantizeLeft = c.dequantizeLeft;
            }
          } catch (err) {
            row.error = err instanceof Error ? err.message : String(err);
          }
        }
      }
      for (const e of exports) {
        const row = byExport.get(e)!;
        row.batch1Ms = Math.min(...(b1.get(e) ?? [NaN]));
        row.batch16Ms = Math.min(...(b16.get(e) ?? [NaN]));
        rows.push(row);
        o.log(
          `  ${kind} ${e}: ${(row.sizeBytes / 1024).toFixed(0)} KiB, batch 1 ${row.batch1Ms.toFixed(2)} ms, batch 16 ${row.batch16Ms.toFixed(2)} ms, ` +
            `top-1 ${row.accuracy === null ? '–' : (100 * row.accuracy).toFixed(2) + ' %'}, agreement ${(100 * row.agreement).toFixed(2)} %` +
            (row.integerNodes !== undefined ? `, ${row.integerNodes} integer nodes, ${row.dequantizeLeft} DQ left` : '') +
            (row.error ? ` — ${row.error}` : ''),
        );
      }
      await engine.dispose();
    }
  }
  return { date: new Date().toISOString(), wallSeconds: (now() - t0) / 1000, rounds: Math.max(1, o.rounds), rows };
}

/** Markdown of the deployment section: per model and back end, each export beside FP32. */
export function deploymentMarkdown(d: DeploymentResults, standalone = true): string {
  const L = [
    standalone ? '# AAQ Studio bench: deployment' : '## Deployment: the exported models as onnxruntime runs them',
    '',
    `Run ${d.date} (${d.wallSeconds.toFixed(0)} s). Latency: lowest median of ${d.rounds} rounds (one session alive at a time), ` +
      "onnxruntime's default options; ÷ FP32: against the FP32 model on the same back end. Top-1 and agreement with FP32 measured on the exported file " +
      '(real-size models: random weights, 100 images — agreement only). Integer nodes / DQ left: nodes onnxruntime-node runs as integer kernels, ' +
      'and DequantizeLinear nodes left, in the graph it optimizes. Exports: ANY / ONNXRUNTIME = DefaultQuantization with that placement; ' +
      'aaq-FP32 / aaq-INT8_WEIGHTS = AccuracyAwareQuantization (ONNXRUNTIME placement, the bench config) with that revert_mode.',
    '',
    '| model | back end | export | size (KiB) | batch 1 (ms) | ÷ FP32 | batch 16 (ms) | ÷ FP32 | top-1 | agreement with FP32 | integer nodes / DQ left |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of d.rows) {
    const f = d.rows.find((q) => q.model === r.model && q.engine === r.engine && q.export === 'fp32');
    const ratio = (a: number, b: number | undefined) => (b && Number.isFinite(a) ? (a / b).toFixed(2) : '–');
    L.push(
      `| ${r.model} | ${r.engine} | ${r.export} | ${(r.sizeBytes / 1024).toFixed(0)} | ${r.batch1Ms.toFixed(2)} | ${ratio(r.batch1Ms, f?.batch1Ms)} | ${r.batch16Ms.toFixed(2)} | ${ratio(r.batch16Ms, f?.batch16Ms)} | ` +
        `${r.accuracy === null ? '–' : (100 * r.accuracy).toFixed(2) + ' %'} | ${(100 * r.agreement).toFixed(2)} % | ${r.integerNodes === undefined ? '–' : `${r.integerNodes} / ${r.dequantizeLeft}`} |` +
        (r.error ? ` ${r.error}` : ''),
    );
  }
  return L.join('\n') + '\n';
}
