// Runs the bench page in Debian's headless Chromium (playwright-core, never a downloaded browser):
// bundles bench/browser/page.ts with esbuild (onnxruntime-web/wasm → its extern-wasm build, so the
// glue and .wasm come from /ort/ on our own origin), serves it cross-origin isolated, and measures
// each model with WASM threads; reports the WebGPU adapter (measured only when it is a real one).
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { MeasureResult } from '../lib/measure';
import type { GpuInfo, PageInfo, PageSpec } from './page';
import { startServer } from './server';
import { aggregateTrace, traceFromConsole, type OpProfile } from '../lib/profile';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const require = createRequire(import.meta.url);
const ORT_DIST = dirname(require.resolve('onnxruntime-web')); // …/onnxruntime-web/dist

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // Let the page see a WebGPU adapter if the machine has one (it is only named unless real).
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
];

export interface ChromiumModelInput {
  spec: PageSpec;
  model: Uint8Array;
  x: Float32Array;
  y: Int32Array;
}

export interface ChromiumResult {
  version: string;
  page: PageInfo;
  gpu: GpuInfo;
  results: Record<string, MeasureResult | { error: string }>;
  /** Per model: Chromium WASM FP32 throughput ÷ onnxruntime-node FP32 throughput, with the two
   *  passes alternating (the median of per-round ratios) so that machine load hits both alike. */
  vsNative?: Record<string, { ratio: number; chromiumMs: number; nativeMs: number; rounds: number }>;
  /** Per-operator profiles (batch as measured): FP32 of the CNN (against native), and FP32 vs
   *  AAQ's switchable session of the models where its overhead matters. */
  profiles?: Record<string, { model: string; kind: 'fp32' | 'switchable'; runs: number; trace: OpProfile } | { error: string }>;
}

async function bundle(): Promise<string> {
  const out = join(ROOT, 'bench/.build');
  mkdirSync(out, { recursive: true });
  const outfile = join(out, 'page.js');
  await build({
    entryPoints: [join(HERE, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    logLevel: 'warning',
    alias: { 'onnxruntime-web/wasm': join(ORT_DIST, 'ort.wasm.min.mjs') },
  });
  return outfile;
}

export async function runChromium(
  models: ChromiumModelInput[],
  threads: number,
  log: (m: string) => void,
  profileTargets: [string, 'fp32' | 'switchable'][] = [],
  nativePass?: (name: string) => Promise<number>,
): Promise<ChromiumResult> {
  const page = await bundle();
  const server = await startServer({ page, html: join(HERE, 'index.html'), ortDist: ORT_DIST });
  const profile = mkdtempSync(join(tmpdir(), 'aaq-bench-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 });
  try {
    const p = ctx.pages()[0] ?? (await ctx.newPage());
    let capture: string[] | null = null;
    let lastTrace: string[] = [];
    p.on('console', (m) => {
      const t = m.text();
      if (t === '@@profile-begin') capture = [];
      else if (t === '@@profile-end') [lastTrace, capture] = [capture ?? [], null];
      else if (capture) capture.push(t);
      else log(`chromium: ${t}`);
    });
    p.on('pageerror', (e) => log(`chromium page error: ${e.message}`));
    for (const m of models) {
      server.blobs.set(`${m.spec.name}.onnx`, m.model);
      server.blobs.set(`${m.spec.name}.x`, new Uint8Array(m.x.buffer, m.x.byteOffset, m.x.byteLength));
      server.blobs.set(`${m.spec.name}.y`, new Uint8Array(m.y.buffer, m.y.byteOffset, m.y.byteLength));
    }
    await p.goto(`${server.url}/`);
    await p.waitForFunction(() => 'aaqBench' in self, undefined, { timeout: 60_000 });
    type Api = {
      init(n: number): Promise<PageInfo>;
      gpu(): Promise<GpuInfo>;
      measure(s: PageSpec): Promise<MeasureResult>;
      profile(s: PageSpec, runs: number, kind: 'fp32' | 'switchable'): Promise<void>;
      fp32Pass(s: PageSpec): Promise<number>;
    };
    const info = await p.evaluate((n) => (self as unknown as { aaqBench: Api }).aaqBench.init(n), threads);
    if (!info.crossOriginIsolated) throw new Error('the bench page is not cross-origin isolated: no WASM threads');
    const gpu = await p.evaluate(() => (self as unknown as { aaqBench: Api }).aaqBench.gpu());
    const version = /(?:Headless)?Chrome\/([\d.]+)/.exec(info.userAgent)?.[1] ?? 'unknown';
    log(`chromium ${version}: cross-origin isolated, ${info.numThreads} WASM threads; WebGPU adapter: ${gpu.adapter ?? 'none'}${gpu.real ? '' : ' (not a real GPU)'}`);
    const results: ChromiumResult['results'] = {};
    for (const m of models) {
      log(`chromium: measuring ${m.spec.name}`);
      try {
        results[m.spec.name] = await p.evaluate((s) => (self as unknown as { aaqBench: Api }).aaqBench.measure(s), m.spec);
      } catch (e) {
        results[m.spec.name] = { error: (e as Error).message.split('\n')[0] };
      }
    }
    const vsNative: NonNullable<ChromiumResult['vsNative']> = {};
    if (nativePass) {
      for (const m of models) {
        const rounds: { c: number; n: number }[] = [];
        for (let r = 0; r < Math.max(3, m.spec.reps) + 1; r++) {
          const c = await p.evaluate((s) => (self as unknown as { aaqBench: Api }).aaqBench.fp32Pass(s), m.spec);
          const n = await nativePass(m.spec.name);
          if (r > 0) rounds.push({ c, n }); // the first round warms both up
        }
        const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
        vsNative[m.spec.name] = { ratio: med(rounds.map((x) => x.n / x.c)), chromiumMs: med(rounds.map((x) => x.c)), nativeMs: med(rounds.map((x) => x.n)), rounds: rounds.length };
        log(`chromium vs native FP32, ${m.spec.name}: ${vsNative[m.spec.name].ratio.toFixed(2)} of native throughput`);
      }
    }
    const profiles: NonNullable<ChromiumResult['profiles']> = {};
    for (const [name, kind] of profileTargets) {
      const pm = models.find((m) => m.spec.name === name);
      if (!pm) continue;
      const key = `${name}:${kind}`;
      try {
        lastTrace = [];
        await p.evaluate(([s, n, k]) => (self as unknown as { aaqBench: Api }).aaqBench.profile(s, n, k), [pm.spec, 10, kind] as const);
        for (let i = 0; i < 100 && !lastTrace.length; i++) await new Promise((r) => setTimeout(r, 50));
        profiles[key] = { model: name, kind, runs: 10, trace: aggregateTrace(traceFromConsole(lastTrace)) };
      } catch (e) {
        profiles[key] = { error: (e as Error).message };
      }
    }
    return { version, page: info, gpu, results, profiles, vsNative };
  } finally {
    await ctx.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
