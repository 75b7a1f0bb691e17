// References for the browser tests: the CLI's result on the same model/data/config (run in
// process through src/cli/main.ts, cached on disk while nothing it depends on changes), and an
// independent evaluation of a downloaded QDQ model in onnxruntime-node.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ort from 'onnxruntime-node';
import { main } from '../../src/cli/main';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import type { RunReport } from '../../src/core/report';
import type { Page } from 'playwright-core';
import { ROOT } from './helpers';

const TMP = join(ROOT, '.aaq-tmp/e2e');

export const DEMO = join(ROOT, 'public/demo');

/** The demo's ResNet, its first `n` samples as an .npy pair (x<n>.npy, y<n>.npy) and `config` as
 *  tiny.config.json, in `dir`: a run small enough for SwiftShader's emulated WebGPU. */
export function writeTinyDemo(dir: string, n: number, config: string): void {
  mkdirSync(dir, { recursive: true });
  const cut = (f: string) => {
    const a = parseNpy(new Uint8Array(readFileSync(join(DEMO, f))), f);
    const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
    return encodeNpy({ ...a, shape: [n, ...a.shape.slice(1)], data: a.data.slice(0, n * per) as typeof a.data });
  };
  writeFileSync(join(dir, `x${n}.npy`), cut('fmnist-300-x.npy'));
  writeFileSync(join(dir, `y${n}.npy`), cut('fmnist-300-y.npy'));
  copyFileSync(join(DEMO, 'fmnist-resnet.onnx'), join(dir, 'fmnist-resnet.onnx'));
  writeFileSync(join(dir, 'tiny.config.json'), config);
}

/** Picks writeTinyDemo's model and data in the studio, goes to Configure and imports its config. */
export async function pickTinyDemo(page: Page, dir: string, n: number): Promise<void> {
  await page.setInputFiles('[data-testid="model-input"]', join(dir, 'fmnist-resnet.onnx'));
  await page.waitForSelector('[data-testid="model-summary"]');
  await page.setInputFiles('[data-testid="data-files-input"]', [join(dir, `x${n}.npy`), join(dir, `y${n}.npy`)]);
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.click('[data-testid="to-configure"]');
  await page.setInputFiles('[data-testid="config-import"]', join(dir, 'tiny.config.json'));
}

/** Every .ts file under dir except the app's (the cache key of a CLI result). */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'app') out.push(...sources(p));
    } else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

/** The CLI's report for `aaq quantize -c <config> -e wasm [extra]` (what the browser's WASM engine mirrors). */
export async function cliReport(config: string, extra: string[] = []): Promise<RunReport> {
  mkdirSync(TMP, { recursive: true });
  const h = createHash('sha256').update(readFileSync(config)).update(JSON.stringify(extra));
  for (const f of sources(join(ROOT, 'src'))) h.update(f).update(readFileSync(f));
  const key = h.digest('hex').slice(0, 16);
  const dir = join(TMP, `cli-${key}`);
  const report = join(dir, 'report.json');
  if (!existsSync(report)) {
    mkdirSync(dir, { recursive: true });
    const stdout = process.stdout.write.bind(process.stdout);
    let code: number;
    try {
      process.stdout.write = (() => true) as typeof process.stdout.write;
      code = await main(['quantize', '-c', config, '-e', 'wasm', '-q', '-o', join(dir, 'model.onnx'), '-r', report, '--snapshots', join(dir, 'run'), ...extra]);
    } finally {
      process.stdout.write = stdout;
    }
    if (code !== 0) throw new Error(`aaq quantize exited with ${code}`);
  }
  return JSON.parse(readFileSync(report, 'utf8')) as RunReport;
}

/**
 * Top-1 accuracy of an ONNX model (bytes) in onnxruntime-node on uint8 images [N,H,W] from .npy,
 * preprocessed as (pixel − mean) / std into [N,1,H,W].
 */
export async function nodeAccuracy(model: Uint8Array, xNpy: string, yNpy: string, mean: number, std: number): Promise<number> {
  const x = parseNpy(new Uint8Array(readFileSync(xNpy)), xNpy);
  const y = parseNpy(new Uint8Array(readFileSync(yNpy)), yNpy);
  const [n, h, w] = x.shape;
  const session = await ort.InferenceSession.create(model);
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  let correct = 0;
  const B = 50;
  for (let s = 0; s < n; s += B) {
    const b = Math.min(B, n - s);
    const data = new Float32Array(b * h * w);
    for (let i = 0; i < data.length; i++) data[i] = ((x.data[s * h * w + i] as number) - mean) / std;
    const out = await session.run({ [input]: new ort.Tensor('float32', data, [b, 1, h, w]) });
    const logits = out[output].data as Float32Array;
    const classes = logits.length / b;
    for (let k = 0; k < b; k++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[k * classes + c] > logits[k * classes + best]) best = c;
      if (best === Number(y.data[s + k])) correct++;
    }
  }
  await session.release();
  return correct / n;
}

export function saveArtifact(name: string, data: Uint8Array | string): string {
  const dir = join(ROOT, 'test-results/e2e');
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** Every file under `path` (or `path` itself), sorted: what a CLI result depends on besides the sources. */
function inputFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((e) => inputFiles(join(path, e)));
}

/**
 * `aaq quantize -c <config> -e wasm [extra]` in process, as cliReport, but also returning the QDQ
 * model's bytes and keyed on the content of `inputs` (model and data files or folders) too.
 */
export async function cliRun(config: string, inputs: string[], extra: string[] = []): Promise<{ report: RunReport; qdq: Buffer; dir: string; cached: boolean; seconds: number }> {
  mkdirSync(TMP, { recursive: true });
  const h = createHash('sha256').update(readFileSync(config)).update(JSON.stringify(extra));
  for (const f of inputs.flatMap(inputFiles)) h.update(relative(ROOT, f)).update(readFileSync(f));
  for (const f of sources(join(ROOT, 'src'))) h.update(f).update(readFileSync(f));
  const dir = join(TMP, `cli-run-${h.digest('hex').slice(0, 16)}`);
  const report = join(dir, 'report.json');
  const model = join(dir, 'model.onnx');
  const cached = existsSync(report) && existsSync(model);
  const t0 = Date.now();
  if (!cached) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const stdout = process.stdout.write.bind(process.stdout);
    let code: number;
    try {
      process.stdout.write = (() => true) as typeof process.stdout.write;
      code = await main(['quantize', '-c', config, '-e', 'wasm', '-q', '-o', model, '-r', report, '--snapshots', join(dir, 'run'), ...extra]);
    } finally {
      process.stdout.write = stdout;
    }
    if (code !== 0) throw new Error(`aaq quantize exited with ${code}`);
  }
  return { report: JSON.parse(readFileSync(report, 'utf8')) as RunReport, qdq: readFileSync(model), dir, cached, seconds: (Date.now() - t0) / 1000 };
}
