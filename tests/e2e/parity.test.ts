// Issue 10: the studio on WASM and the CLI (`aaq quantize -e wasm`, onnxruntime-web in Node, one
// thread) on the same model, the same data and the config the studio exports give the same QDQ
// bytes and the same report — everything but timings, paths and the engine's label — on the demo
// and on the PaddleOCR text-direction classifier. The studio runs on 2 WASM threads: onnxruntime's
// CPU kernels split work across threads without changing any float summation order, so the two
// engines must agree bit for bit, and with them every metric, ranking and decision of the search.

import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, openPage, ROOT, waitForResults, useServedBrowser } from './helpers';
import { cliRun, DEMO, saveArtifact } from './reference';

const OCR_MODEL = join(ROOT, 'tests/fixtures/models/ch_ppocr_mobile_v2.0_cls_infer.onnx');
/** 100 rendered text lines, 50 per class (0, 180): the bench's PaddleOCR data. */
const OCR_DATA = join(ROOT, 'bench/data/ocr-100');
const TMP = join(ROOT, '.aaq-tmp/e2e/parity');
const THREADS = 2;

const env = useServedBrowser();

/** The studio's report with what legitimately differs between two runs of the same search removed. */
function comparable(r: RunReport): unknown {
  const c = structuredClone(r) as RunReport & Record<string, unknown>;
  // Wall-clock times of each phase and of the whole run.
  delete (c as Partial<RunReport>).timings;
  // Where the model came from: the picked file's name in the studio, a file path in the CLI.
  delete (c.model as Partial<RunReport['model']>).path;
  // "onnxruntime-web … WASM, 2 threads" vs "onnxruntime-web … wasm (Node, 1 thread)".
  delete (c.engine as Partial<RunReport['engine']>).label;
  // The measured FP32 vs INT8 latency, the time of the exported model's evaluation and its engine's label.
  delete (c as Partial<RunReport>).latency;
  for (const e of (c.exported ?? []) as Partial<NonNullable<RunReport['exported']>[number]>[]) {
    delete e.label;
    delete e.eval_ms;
  }
  return c;
}

/** Paths of the leaves where two JSON values differ (for the failure message). */
function differences(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (out.length >= 40) return out;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    if (!Object.is(a, b)) out.push(`${path}: studio ${JSON.stringify(a)?.slice(0, 120)} ≠ CLI ${JSON.stringify(b)?.slice(0, 120)}`);
    return out;
  }
  if (Array.isArray(a) !== Array.isArray(b)) {
    out.push(`${path}: array vs object`);
    return out;
  }
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`, out);
  return out;
}

interface StudioRun {
  report: RunReport;
  qdq: Buffer;
  config: string;
  seconds: number;
}

/** Configure → WASM on THREADS threads → run → Results, and the three downloads. */
async function runOnWasm(page: Page): Promise<StudioRun> {
  await page.check('[data-testid="backend-wasm"]');
  await page.$eval('[data-testid="advanced"]', (d) => ((d as HTMLDetailsElement).open = true)); // run settings are under Advanced
  const threads = page.locator('[data-testid="run-settings"] label:has-text("WASM threads") input');
  await threads.fill(String(THREADS));
  await threads.press('Tab');
  await page.waitForFunction((n) => document.querySelector('[data-testid="run-settings"]')?.textContent?.includes(`${n} threads`), THREADS);
  const t0 = Date.now();
  await page.click('[data-testid="start-run"]');
  await waitForResults(page, 420_000);
  const seconds = (Date.now() - t0) / 1000;
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  const qdq = await downloadBytes(page, 'download-qdq');
  const config = (await downloadBytes(page, 'download-config')).toString('utf8');
  return { report, qdq, config, seconds };
}

/** Runs the CLI next to copies of the model and data with the studio's config, and compares. */
async function compareWithCli(name: string, studio: StudioRun, files: { model: string; data: string[] }): Promise<void> {
  const dir = join(TMP, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The exported config names the picked model and data relative to where it sits: put it next to
  // byte-identical copies of them, and use it as it is.
  const inputs = [files.model, ...files.data].map((src) => {
    const dst = join(dir, src.split('/').pop()!);
    cpSync(src, dst, { recursive: true });
    return dst;
  });
  const config = join(dir, `${name}.aaq.json`);
  writeFileSync(config, studio.config);
  const cli = await cliRun(config, inputs);
  saveArtifact(`parity-${name}-studio-report.json`, JSON.stringify(studio.report, null, 2));
  saveArtifact(`parity-${name}-cli-report.json`, JSON.stringify(cli.report, null, 2));
  saveArtifact(`parity-${name}-studio-int8.onnx`, studio.qdq);
  saveArtifact(`parity-${name}-cli-int8.onnx`, cli.qdq);

  const m = Object.keys(studio.report.final.metrics)[0];
  const r = studio.report;
  console.log(
    `${name}: studio ${studio.seconds.toFixed(1)} s on ${r.engine.label} (${(r.timings.total / 1000).toFixed(1)} s in the worker); ` +
      `CLI ${cli.cached ? 'cached' : `${cli.seconds.toFixed(1)} s`} on ${cli.report.engine.label}; ` +
      `${m} FP32 ${r.baseline.metrics[m]} INT8 ${r.quantized.metrics[m]} final ${r.final.metrics[m]} (CLI ${cli.report.final.metrics[m]}), ` +
      `reverted ${r.reverted.length}/${r.groups_total} (CLI ${cli.report.reverted.length}), ${r.counts.inferences} inferences / ${r.counts.sessions} sessions ` +
      `(CLI ${cli.report.counts.inferences} / ${cli.report.counts.sessions}), mode ${r.engine.mode}; QDQ ${studio.qdq.length} B (CLI ${cli.qdq.length} B), ` +
      `identical: ${studio.qdq.equals(cli.qdq)}`,
  );

  expect(r.engine.backend).toBe('wasm');
  expect(r.engine.label).toContain(`${THREADS} threads`);
  expect(cli.report.engine.backend).toBe('wasm');
  const diff = differences(comparable(r), comparable(cli.report));
  if (diff.length) console.log(`${name}: report fields that differ:\n  ${diff.join('\n  ')}`);
  expect(diff).toEqual([]);
  expect(comparable(r)).toEqual(comparable(cli.report));
  expect(studio.qdq.equals(cli.qdq), 'the QDQ models are byte-identical').toBe(true);
}

it('the demo: studio on WASM = CLI on WASM (QDQ bytes and report)', async () => {
  const { page, problems, context } = await openPage(env.browser, env.served.url);
  await page.click('[data-testid="try-demo"]');
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.click('[data-testid="to-configure"]');
  const studio = await runOnWasm(page);
  expect(problems).toEqual([]);
  await context.close();
  await compareWithCli('demo', studio, { model: join(DEMO, 'fmnist-resnet.onnx'), data: [join(DEMO, 'fmnist-300-x.npy'), join(DEMO, 'fmnist-300-y.npy')] });
}, 900_000);

it('PaddleOCR classifier: studio on WASM = CLI on WASM (QDQ bytes and report)', async () => {
  // The bench's PaddleOCR config (bench/configs/ppocr-cls.json): BGR, (x − 127.5) / 127.5, AAQ at
  // maximal_drop 0.01 (on WASM: 5 iterations, 3 of 65 groups reverted on these 100 images; about
  // two minutes in the studio on 2 cores).
  const dir = join(TMP, 'ocr-config');
  mkdirSync(dir, { recursive: true });
  const imported = join(dir, 'ppocr-cls.aaq.json');
  writeFileSync(
    imported,
    JSON.stringify({
      model: { model_name: 'ppocr-cls', model: 'ch_ppocr_mobile_v2.0_cls_infer.onnx' },
      engine: {
        dataset: { data_source: 'ocr-100', color: 'bgr', preprocessing: [{ type: 'normalization', mean: 127.5, std: 127.5 }] },
        metrics: [{ name: 'accuracy@top1' }],
      },
      compression: {
        target_device: 'ANY',
        algorithms: [{ name: 'AccuracyAwareQuantization', params: { preset: 'performance', stat_subset_size: 300, maximal_drop: 0.01 } }],
      },
    }),
  );
  const { page, problems, context } = await openPage(env.browser, env.served.url);
  await page.setInputFiles('[data-testid="model-input"]', OCR_MODEL);
  await page.waitForSelector('[data-testid="model-summary"]');
  await page.setInputFiles('[data-testid="data-folder-input"]', OCR_DATA);
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  expect(await page.textContent('[data-testid="data-size"]')).toBe('100');
  await page.click('[data-testid="to-configure"]');
  await page.setInputFiles('[data-testid="config-import"]', imported);
  const studio = await runOnWasm(page);
  expect(problems).toEqual([]);
  await context.close();
  expect(JSON.parse(studio.config).engine.dataset).toMatchObject({ data_source: 'ocr-100', color: 'bgr' });
  await compareWithCli('ppocr-cls', studio, { model: OCR_MODEL, data: [OCR_DATA] });
}, 900_000);
