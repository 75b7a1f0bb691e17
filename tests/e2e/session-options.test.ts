// The session options reach onnxruntime in the page: in a real run worker, through the engine
// wrapper a studio run uses (createEngine → GatedEngine) and the ONNX backend's sessions, the
// switchable graph with every quantizer off gives the FP32 model's outputs bit for bit on WASM, and
// those are the outputs onnxruntime-web gives in Node under EXACT_SESSION_OPTIONS.
//
// What it guards: GatedEngine.createSession once dropped its `options` argument, so the FP32 and
// switchable sessions ran at graph level 'all' instead of 'extended' without pre-packing. On the
// demo ResNet that changes the FP32 outputs in their last bits (the level-'all' fusions do not
// reach across the switchable graph's If gates), so "all off = FP32" fails and the FP32 outputs
// no longer match Node's under the exact options: this test fails then (checked by reverting the
// fix). On the PaddleOCR classifier onnxruntime-web's WASM kernels give the same bits at both
// levels, so that case checks "all off = FP32" and threads = one thread, but cannot see the options.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import { expect, it } from 'vitest';
import { normalizeModel } from '../../src/core/onnx/normalize';
import { decodeModel, encodeModel } from '../../src/core/onnx/proto';
import { EXACT_SESSION_OPTIONS } from '../../src/core/quant/switchable';
import type { SelfCheckRequest, SelfCheckResult } from '../../workers/protocol';
import { Runner } from '../conformance/helpers';
import { openPage, ROOT, useServedBrowser } from './helpers';
import { DEMO } from './reference';

const env = useServedBrowser();
const SAMPLES = 32;
const BATCH = 16;

interface Case {
  name: string;
  model: string;
  config: string;
  /** Data files: path relative to the data root → file on disk. */
  files: [string, string][];
  /** onnxruntime-web's WASM kernels give different bits at level 'all' than under the exact options. */
  sensitive: boolean;
}

const OCR = join(ROOT, 'bench/data/ocr-100');
const ocrFiles = (cls: string) =>
  readdirSync(join(OCR, cls))
    .sort()
    .slice(0, SAMPLES / 2)
    .map((f): [string, string] => [`ocr/${cls}/${f}`, join(OCR, cls, f)]);

const CASES: Case[] = [
  {
    name: 'demo ResNet (Fashion-MNIST)',
    model: join(DEMO, 'fmnist-resnet.onnx'),
    config: readFileSync(join(DEMO, 'demo.config.json'), 'utf8'),
    files: ['fmnist-300-x.npy', 'fmnist-300-y.npy'].map((f): [string, string] => [f, join(DEMO, f)]),
    sensitive: true,
  },
  {
    name: 'PaddleOCR classifier',
    model: join(ROOT, 'tests/fixtures/models/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    config: JSON.stringify({
      model: { model_name: 'ppocr-cls', model: 'ch_ppocr_mobile_v2.0_cls_infer.onnx' },
      engine: { dataset: { data_source: 'ocr', color: 'bgr', preprocessing: [{ type: 'normalization', mean: 127.5, std: 127.5 }] }, metrics: [{ name: 'accuracy@top1' }] },
      compression: { target_device: 'ANY', algorithms: [{ name: 'AccuracyAwareQuantization', params: { preset: 'performance', maximal_drop: 0.01 } }] },
    }),
    files: [...ocrFiles('0'), ...ocrFiles('180')],
    sensitive: false,
  },
];

const b64 = (p: string) => readFileSync(p).toString('base64');
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Elements whose bit patterns differ, and the largest absolute difference. */
function compare(a: Float32Array, b: Float32Array): { neq: number; maxAbs: number } {
  expect(a.length).toBe(b.length);
  const x = bits(a);
  const y = bits(b);
  let neq = 0;
  let maxAbs = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      neq++;
      maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    }
  }
  return { neq, maxAbs };
}

/** The FP32 model in onnxruntime-web in Node (one thread) on the page's inputs, in the page's batches. */
async function nodeFp32(model: Uint8Array, r: SelfCheckResult, options: InferenceSession.SessionOptions): Promise<Float32Array> {
  const runner = await Runner.create('wasm');
  const session = await runner.session(model, { logSeverityLevel: 3, ...options });
  const per = r.sampleShape.reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  try {
    for (let s = 0; s < r.samples; s += BATCH) {
      const n = Math.min(BATCH, r.samples - s);
      const out = await runner.run(session, { [session.inputNames[0]]: { type: 'float32', dims: [n, ...r.sampleShape], data: r.inputs.slice(s * per, (s + n) * per) } });
      parts.push(out[r.outputName].data as Float32Array);
    }
  } finally {
    await session.release();
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
  return all;
}

it('the exact session options reach onnxruntime in the run worker: all quantizers off = FP32 bit for bit on WASM', async () => {
  const { page, problems, context } = await openPage(env.browser, `${env.served.url}?test`);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  for (const c of CASES) {
    const req = {
      configText: c.config,
      model: { name: c.model.split('/').pop()!, b64: b64(c.model) },
      files: c.files.map(([path, file]) => ({ path, b64: b64(file) })),
      samples: SAMPLES,
      batchSize: BATCH,
    };
    const t0 = Date.now();
    const wire = await page.evaluate(async (q) => {
      const bytes = (s: string) => Uint8Array.from(atob(s), (ch) => ch.charCodeAt(0));
      const text = (a: Float32Array) => {
        const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        let s = '';
        for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
        return btoa(s);
      };
      const hooks = (window as unknown as { __aaqTest: { selfCheck(r: SelfCheckRequest): Promise<SelfCheckResult> } }).__aaqTest;
      const r = await hooks.selfCheck({
        configText: q.configText,
        model: { name: q.model.name, bytes: bytes(q.model.b64) },
        samples: q.samples,
        batchSize: q.batchSize,
        threads: 2,
        data: { name: 'data', files: q.files.map((f) => ({ path: f.path, file: new Blob([bytes(f.b64)]) })) },
      });
      return { ...r, inputs: text(r.inputs), fp32: text(r.fp32), allOff: text(r.allOff) };
    }, req);
    const f32 = (s: string) => {
      const b = Buffer.from(s, 'base64');
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const r: SelfCheckResult = { ...wire, inputs: f32(wire.inputs), fp32: f32(wire.fp32), allOff: f32(wire.allOff) };
    const seconds = (Date.now() - t0) / 1000;

    const model = encodeModel(normalizeModel(decodeModel(new Uint8Array(readFileSync(c.model)), c.model)).model);
    const exact = await nodeFp32(model, r, EXACT_SESSION_OPTIONS as unknown as InferenceSession.SessionOptions);
    const all = await nodeFp32(model, r, { graphOptimizationLevel: 'all' });
    const offVsFp32 = compare(r.allOff, r.fp32);
    const pageVsNode = compare(r.fp32, exact);
    const allVsExact = compare(all, exact);
    console.log(
      `${c.name}: ${r.samples} samples × ${r.fp32.length / r.samples} outputs, ${r.quantizers} quantizers, ${r.sessions} sessions, ${r.engine} (isolated ${r.crossOriginIsolated}), ${seconds.toFixed(1)} s; ` +
        `page all-off vs page FP32: ${offVsFp32.neq} differ; page FP32 vs Node WASM FP32 (exact options): ${pageVsNode.neq} differ (max ${pageVsNode.maxAbs}); ` +
        `Node WASM FP32 at level 'all' vs exact options: ${allVsExact.neq} differ (max ${allVsExact.maxAbs})`,
    );
    expect(r.threads).toBe(2);
    expect(r.samples).toBe(SAMPLES);
    expect(r.sessions).toBe(2);
    expect(r.quantizers).toBeGreaterThan(0);
    expect(offVsFp32, `${c.name}: all quantizers off = FP32 in the page`).toEqual({ neq: 0, maxAbs: 0 });
    expect(pageVsNode, `${c.name}: the page's FP32 (2 threads) = onnxruntime-web in Node (1 thread) under the exact options`).toEqual({ neq: 0, maxAbs: 0 });
    // The demo can tell the options apart (else this test could not see them dropped).
    if (c.sensitive) expect(allVsExact.neq, `${c.name}: level 'all' changes the FP32 bits on WASM`).toBeGreaterThan(0);
  }
  expect(problems).toEqual([]);
  await context.close();
}, 300_000);
