// A user's own model and image folder, picked through the file inputs (the folder through
// <input webkitdirectory>), preprocessing typed into the form, AAQ with POT's defaults: it runs to
// the end, and the result agrees with the CLI on the same folder. WebGPU is chosen in a browser
// without a GPU (--disable-gpu), so the run must fall back to WASM and say so.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, openPage, ROOT, waitForResults, useServedBrowser } from './helpers';
import { cliReport } from './reference';

const FOLDER = join(ROOT, 'tests/fixtures/fmnist-img-40');
const MODEL = join(ROOT, 'tests/fixtures/models/fmnist-cnn.onnx');

const env = useServedBrowser();

it('runs a picked model and image folder to the end', async () => {
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  await page.setInputFiles('[data-testid="model-input"]', MODEL);
  await page.waitForSelector('[data-testid="model-summary"]');
  expect(await page.textContent('[data-testid="model-summary"]')).toContain('quantizable layers');

  await page.setInputFiles('[data-testid="data-folder-input"]', FOLDER);
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  expect(await page.textContent('[data-testid="data-size"]')).toBe('40');
  const summary = await page.textContent('[data-testid="data-summary"]');
  expect(summary).toContain('10 classes');
  expect(summary).toContain('0_tshirt_top');
  expect(summary).toContain("Labels fit the model's 10 outputs");
  // Images show the original next to the model input.
  expect(await page.locator('[data-testid="preview-grid"] canvas[aria-label="original"]').count()).toBeGreaterThan(0);

  await page.fill('[data-testid="pre-mean"]', '72.93');
  await page.press('[data-testid="pre-mean"]', 'Tab');
  await page.fill('[data-testid="pre-std"]', '90.015');
  await page.press('[data-testid="pre-std"]', 'Tab');
  await page.waitForFunction(() => document.querySelector('[data-testid="preview-grid"] figcaption')?.textContent?.includes('-0.81'));

  await page.click('[data-testid="to-configure"]');
  await page.check('[data-testid="backend-webgpu"]');
  const config = (await downloadBytes(page, 'config-export')).toString('utf8');
  await page.click('[data-testid="start-run"]');
  await waitForResults(page, 240_000);
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  await page.click('[data-testid="nav-run"]');
  const fallback = await page.textContent('[data-testid="fallback"]');
  expect(fallback).toMatch(/WebGPU.*running on WASM instead/);
  expect(report.engine.backend).toBe('wasm');
  const m = 'accuracy@top1';
  console.log(`fallback: ${fallback}`);
  console.log(`picked files: ${report.data.size} images, final ${report.final.metrics[m]}, status ${report.aaq?.status}, ${report.timings.total.toFixed(0)} ms`);
  expect(report.data.size).toBe(40);
  expect(report.aaq?.status).toBeDefined();
  expect(foreign(ui.requests, env.served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);

  // The exported config, run by the CLI next to the same model and folder, gives the same result.
  const dir = join(ROOT, '.aaq-tmp/e2e/user-files');
  mkdirSync(dir, { recursive: true });
  const parsed = JSON.parse(config);
  parsed.model.model = MODEL;
  parsed.engine.dataset.data_source = FOLDER;
  writeFileSync(join(dir, 'exported.config.json'), JSON.stringify(parsed, null, 2));
  const cli = await cliReport(join(dir, 'exported.config.json'));
  expect(report.reverted.map((r) => r.group)).toEqual(cli.reverted.map((r) => r.group));
  expect(Math.abs(report.final.metrics[m] - cli.final.metrics[m])).toBeLessThanOrEqual(0.005);
  await ui.context.close();
}, 600_000);
