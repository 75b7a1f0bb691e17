// The Chromium side of `npm run bench`: onnxruntime-web's plain WASM bundle (its glue and .wasm
// served from this origin, /ort/), threads when the page is cross-origin isolated, and the same
// measurement code as in Node (bench/lib/measure.ts). Driven from bench/browser/chromium.ts
// through window.aaqBench.
import * as ort from 'onnxruntime-web/wasm';
import type { AccuracyAwareParams } from '../../src/core/config/types';
import type { QuantState } from '../../src/core/algorithms/backend';
import { OrtEngine, type OrtModule } from '../../src/core/engine/ort-common';
import { decodeModel, encodeModel } from '../../src/core/onnx/proto';
import { CPU_ENGINE } from '../../src/core/engine/traits';
import { OnnxQuantizationBackend } from '../../src/core/evaluation/onnx-backend';
import { EXACT_SESSION_OPTIONS } from '../../src/core/quant/switchable';
import type { MetricName } from '../../src/core/types';
import { measureBackEnd, memoryDataset, type MeasureResult } from '../lib/measure';

export interface PageSpec {
  name: string;
  params: AccuracyAwareParams;
  state: QuantState;
  metrics: MetricName[];
  sampleShape: number[];
  samples: number;
  batch: number;
  reps: number;
}

export interface PageInfo {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  numThreads: number;
  userAgent: string;
}

export interface GpuInfo {
  api: boolean;
  adapter: string | null;
  fallback: boolean;
  real: boolean;
}

let threads = 1;

async function init(numThreads: number): Promise<PageInfo> {
  threads = numThreads;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = numThreads;
  ort.env.wasm.proxy = false;
  return { crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, numThreads, userAgent: navigator.userAgent };
}

/** The WebGPU adapter, if any; a software one (SwiftShader, or a fallback adapter) is not real. */
async function gpu(): Promise<GpuInfo> {
  const g = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!g) return { api: false, adapter: null, fallback: false, real: false };
  const a = (await g.requestAdapter().catch(() => null)) as { info?: Record<string, string>; isFallbackAdapter?: boolean } | null;
  if (!a) return { api: true, adapter: null, fallback: false, real: false };
  const info = a.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  const fallback = !!a.isFallbackAdapter || /swiftshader|llvmpipe|software/i.test(name);
  return { api: true, adapter: name, fallback, real: !fallback };
}

async function bytes(url: string): Promise<ArrayBuffer> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

async function measure(spec: PageSpec): Promise<MeasureResult> {
  const [model, x, y] = await Promise.all([bytes(`/blob/${spec.name}.onnx`), bytes(`/blob/${spec.name}.x`), bytes(`/blob/${spec.name}.y`)]);
  const engine = new OrtEngine('wasm', ort as unknown as OrtModule, {
    sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
    label: `onnxruntime-web wasm (Chromium, ${threads} threads)`,
    traits: CPU_ENGINE,
  });
  try {
    return await measureBackEnd({
      engine,
      model: decodeModel(new Uint8Array(model)),
      dataset: memoryDataset(new Float32Array(x), new Int32Array(y), spec.sampleShape),
      metrics: spec.metrics,
      params: spec.params,
      state: spec.state,
      samples: spec.samples,
      batch: spec.batch,
      reps: spec.reps,
      log: (m) => console.log(`[${spec.name}] ${m}`),
    });
  } finally {
    await engine.dispose();
  }
}

let fp32Session: { name: string; s: ort.InferenceSession; feeds: Record<string, ort.Tensor>[] } | null = null;

/** One FP32 pass over `spec.samples` samples (default options), ms; the session is kept between calls. */
async function fp32Pass(spec: PageSpec): Promise<number> {
  if (fp32Session?.name !== spec.name) {
    await fp32Session?.s.release();
    const [model, x] = await Promise.all([bytes(`/blob/${spec.name}.onnx`), bytes(`/blob/${spec.name}.x`)]);
    const s = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const all = new Float32Array(x);
    const len = spec.sampleShape.reduce((a, b) => a * b, 1);
    const n = all.length / len;
    const feeds: Record<string, ort.Tensor>[] = [];
    for (let i = 0; i < spec.samples; i += spec.batch) {
      const rows = Math.min(spec.batch, spec.samples - i);
      const b = new Float32Array(rows * len);
      for (let k = 0; k < rows; k++) b.set(all.subarray(((i + k) % n) * len, (((i + k) % n) + 1) * len), k * len);
      feeds.push({ [s.inputNames[0]]: new ort.Tensor('float32', b, [rows, ...spec.sampleShape]) });
    }
    fp32Session = { name: spec.name, s, feeds };
    for (const f of feeds) await s.run(f);
  }
  const t0 = performance.now();
  for (const f of fp32Session.feeds) await fp32Session.s.run(f);
  return performance.now() - t0;
}

/**
 * Batches with onnxruntime's profiler on — the FP32 model, or AAQ's switchable session with every
 * quantizer on — the trace goes to the console (collected by the driver).
 */
async function profile(spec: PageSpec, runs: number, kind: 'fp32' | 'switchable'): Promise<void> {
  const [model, x] = await Promise.all([bytes(`/blob/${spec.name}.onnx`), bytes(`/blob/${spec.name}.x`)]);
  const len = spec.sampleShape.reduce((a, b) => a * b, 1);
  const input = new Float32Array(x).slice(0, spec.batch * len);
  let bytesToLoad: Uint8Array = new Uint8Array(model);
  let options: Record<string, unknown> = { graphOptimizationLevel: 'all' };
  let extra: Record<string, ort.Tensor> = {};
  if (kind === 'switchable') {
    const engine = new OrtEngine('wasm', ort as unknown as OrtModule, { sessionOptions: { executionProviders: ['wasm'] }, traits: CPU_ENGINE });
    const b = new OnnxQuantizationBackend({
      engine,
      model: decodeModel(bytesToLoad),
      dataset: memoryDataset(input, new Int32Array(spec.batch), spec.sampleShape),
      metrics: spec.metrics,
      placementParams: spec.params,
    });
    const sw = b.candidates.switchable('qdq', 'if');
    bytesToLoad = encodeModel(sw.model);
    options = { ...EXACT_SESSION_OPTIONS };
    extra = Object.fromEntries(Object.entries(b.candidates.feeds(sw.layout, spec.state)).map(([k, t]) => [k, new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims)]));
  }
  const s = await ort.InferenceSession.create(bytesToLoad, { executionProviders: ['wasm'], ...options, enableProfiling: true });
  const feeds = { ...extra, [s.inputNames[0]]: new ort.Tensor('float32', input, [spec.batch, ...spec.sampleShape]) };
  for (let i = 0; i <= runs; i++) await s.run(feeds);
  console.log('@@profile-begin');
  s.endProfiling();
  console.log('@@profile-end');
  await s.release();
}

(self as unknown as { aaqBench: unknown }).aaqBench = { init, gpu, measure, profile, fp32Pass };
