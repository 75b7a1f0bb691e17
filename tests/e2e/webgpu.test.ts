// WebGPU (native EP, float fake-quant) in headless Chromium on the SwiftShader adapter: tiny, as
// SwiftShader emulates the GPU on the CPU. The model and a 48-sample .npy pair are picked through
// the file inputs, the config (with comments) through the import button; the result must match
// the CLI on the same files.

import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, openPage, ROOT, useServedBrowser, shot, waitForResults } from './helpers';
import { cliReport, DEMO, pickTinyDemo, writeTinyDemo } from './reference';

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

beforeAll(() => writeTinyDemo(DIR, N, CONFIG));
const env = useServedBrowser({ webgpu: true });

it('runs a tiny AAQ on WebGPU (SwiftShader) with the CLI result', async () => {
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  const wall = Date.now();
  await pickTinyDemo(page, DIR, N);
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
  console.log(
    `tiny AAQ on WebGPU: ${seconds.toFixed(1)} s; ${adapter}; engine ${report.engine.label}; final ${report.final.metrics[m]}, reverted ${report.reverted.map((r) => r.group).join(', ')}`,
  );
  expect(await page.$('[data-testid="fallback"]')).toBeNull();
  expect(report.engine.backend).toBe('webgpu');
  expect(foreign(ui.requests, env.served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);

  const cli = await cliReport(join(DIR, 'tiny.config.json'));
  expect(report.reverted.map((r) => r.group)).toEqual(cli.reverted.map((r) => r.group));
  expect(Math.abs(report.final.metrics[m] - cli.final.metrics[m])).toBeLessThanOrEqual(0.005);
  await ui.context.close();
}, 600_000);
