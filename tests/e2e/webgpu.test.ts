// WebGPU (native EP, float fake-quant) in headless Chromium on the SwiftShader adapter: tiny, as
// SwiftShader emulates the GPU on the CPU. The model and a 48-sample .npy pair are picked through
// the file inputs, the config (with comments) through the import button; the result must match
// the CLI on the same files.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, launch, openPage, ROOT, serve, shot, waitForResults, type Served } from './helpers';
import { cliReport, DEMO } from './reference';

const N = 48;
const DIR = join(ROOT, '.aaq-tmp/e2e/webgpu');

const CONFIG = `/* tiny WebGPU check */
{
  "model": { "model_name": "fmnist-resnet", "model": "fmnist-resnet.onnx" },
  "engine": {
    "dataset": { "data_source": "x${N}.npy", "labels": "y${N}.npy", "color": "gray",
                 "preprocessing": [ { "type": "normalization", "mean": 72.93, "std": 90.015 } ] },
    "metrics": [ { "name": "accuracy@top1" } ]
  },
  "compression": { "algorithms": [ { "name": "AccuracyAwareQuantization",
    "params": { "stat_subset_size": 16, "maximal_drop": 0.001, "ranking_subset_size": 8 } } ] } // keep SwiftShader busy briefly
}
`;

function makeFiles(): void {
  mkdirSync(DIR, { recursive: true });
  const cut = (f: string) => {
    const a = parseNpy(new Uint8Array(readFileSync(join(DEMO, f))), f);
    const per = a.shape.slice(1).reduce((x, y) => x * y, 1);
    return encodeNpy({ ...a, shape: [N, ...a.shape.slice(1)], data: a.data.slice(0, N * per) as typeof a.data });
  };
  writeFileSync(join(DIR, `x${N}.npy`), cut('fmnist-300-x.npy'));
  writeFileSync(join(DIR, `y${N}.npy`), cut('fmnist-300-y.npy'));
  copyFileSync(join(DEMO, 'fmnist-resnet.onnx'), join(DIR, 'fmnist-resnet.onnx'));
  writeFileSync(join(DIR, 'tiny.config.json'), CONFIG);
}

let served: Served;
let browser: Browser;

beforeAll(async () => {
  makeFiles();
  served = await serve();
  browser = await launch({ webgpu: true });
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

it('runs a tiny AAQ on WebGPU (SwiftShader) with the CLI result', async () => {
  const ui = await openPage(browser, served.url);
  const { page } = ui;
  const wall = Date.now();
  await page.setInputFiles('[data-testid="model-input"]', join(DIR, 'fmnist-resnet.onnx'));
  await page.waitForSelector('[data-testid="model-summary"]');
  await page.setInputFiles('[data-testid="data-files-input"]', [join(DIR, `x${N}.npy`), join(DIR, `y${N}.npy`)]);
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.click('[data-testid="to-configure"]');
  await page.setInputFiles('[data-testid="config-import"]', join(DIR, 'tiny.config.json'));
  await page.waitForSelector('[data-testid="import-note"]');
  expect(await page.textContent('[data-testid="import-note"]')).toContain('Imported');
  await page.check('[data-testid="backend-webgpu"]');
  await page.waitForSelector('[data-testid="adapter-info"]');
  const adapter = await page.textContent('[data-testid="adapter-info"]');
  await page.click('[data-testid="start-run"]');
  await page.waitForSelector('[data-testid="engine-info"]', { timeout: 60_000 });
  await waitForResults(page, 420_000);
  const seconds = (Date.now() - wall) / 1000;
  await shot(page, 'results-webgpu');

  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  const m = 'accuracy@top1';
  console.log(`tiny AAQ on WebGPU: ${seconds.toFixed(1)} s; ${adapter}; engine ${report.engine.label}; final ${report.final.metrics[m]}, reverted ${report.reverted.map((r) => r.group).join(', ')}`);
  expect(await page.$('[data-testid="fallback"]')).toBeNull();
  expect(report.engine.backend).toBe('webgpu');
  expect(foreign(ui.requests, served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);

  const cli = await cliReport(join(DIR, 'tiny.config.json'));
  expect(report.reverted.map((r) => r.group)).toEqual(cli.reverted.map((r) => r.group));
  expect(Math.abs(report.final.metrics[m] - cli.final.metrics[m])).toBeLessThanOrEqual(0.005);
  await ui.context.close();
}, 600_000);
