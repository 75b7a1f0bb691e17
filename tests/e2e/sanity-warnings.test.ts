// Issue 13 acceptance, studio: the PaddleOCR classifier picked with a folder of its images but
// none of its preprocessing, and with a folder of wrong-size images, runs to the end on WASM and
// the Results screen shows the sanity warning naming the likely cause in place of a green
// "Target met" (the same checks as the CLI: src/core/run/sanity.ts, tests/integration/cli-sanity.test.ts).
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, openPage, ROOT, shot, waitForResults, useServedBrowser } from './helpers';

const MODEL = join(ROOT, 'tests/fixtures/models/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const env = useServedBrowser();

async function runOn(folder: string, tag: string) {
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  await page.setInputFiles('[data-testid="model-input"]', MODEL);
  await page.waitForSelector('[data-testid="model-summary"]');
  await page.setInputFiles('[data-testid="data-folder-input"]', join(ROOT, 'tests/fixtures', folder));
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.click('[data-testid="to-configure"]');
  await page.check('[data-testid="backend-wasm"]');
  await page.click('[data-testid="start-run"]');
  await waitForResults(page, 240_000);
  const status = (await page.textContent('[data-testid="result-status"]')) ?? '';
  const statusClass = (await page.getAttribute('[data-testid="result-status"]', 'class')) ?? '';
  const warnings = await page.locator('[data-testid="sanity-warning"]').allTextContents();
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  await shot(page, `results-unreliable-${tag}`);
  await ui.context.close();
  return { status, statusClass, warnings, report };
}

it('no preprocessing: the Results screen warns, naming the missing normalization, instead of "Target met"', async () => {
  const r = await runOn('ocr-img-24', 'raw');
  console.log(`raw: status "${r.status.trim()}"; ${r.warnings.length} warnings`);
  expect(r.report.baseline.metrics['accuracy@top1']).toBe(0.5);
  expect(r.status).toContain('unreliable');
  expect(r.status).not.toMatch(/^\s*Target met\s*$/);
  expect(r.statusClass).not.toMatch(/\bok\b/);
  expect(r.warnings.some((w) => /no normalization/.test(w))).toBe(true);
  expect(r.warnings.some((w) => /no better than chance/.test(w))).toBe(true);
  expect(r.report.sanity?.reliable).toBe(false);
}, 300_000);

it('wrong-size images: the Results screen warns, naming the image size', async () => {
  const r = await runOn('ocr-img-wrong-size-40', 'wrong-size');
  console.log(`wrong size: status "${r.status.trim()}"; ${r.warnings.length} warnings`);
  expect(r.status).toContain('unreliable');
  expect(r.statusClass).not.toMatch(/\bok\b/);
  expect(r.warnings.some((w) => /add a resize step/.test(w) && /3×32×32/.test(w))).toBe(true);
  expect(r.report.sanity?.reliable).toBe(false);
}, 300_000);
