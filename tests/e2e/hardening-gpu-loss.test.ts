// Issue 6, studio half: the WebGPU device is lost mid-run. The page (opened with ?test) asks the run
// worker to make the WebGPU engine fail as a lost GPUDevice does right after the first snapshot; the
// run must carry on on WASM from that snapshot, say so, and finish. Tiny (48 samples), as
// SwiftShader emulates the GPU on the CPU.

import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, openPage, ROOT, useServedBrowser, waitForResults } from './helpers';
import { pickTinyDemo, writeTinyDemo } from './reference';

const N = 48;
const DIR = join(ROOT, '.aaq-tmp/e2e/gpu-loss');

const CONFIG = JSON.stringify({
  model: { model_name: 'fmnist-resnet', model: 'fmnist-resnet.onnx' },
  engine: {
    dataset: { data_source: `x${N}.npy`, labels: `y${N}.npy`, color: 'gray', preprocessing: [{ type: 'normalization', mean: 72.93, std: 90.015 }] },
    metrics: [{ name: 'accuracy@top1' }],
  },
  compression: { algorithms: [{ name: 'AccuracyAwareQuantization', params: { stat_subset_size: 16, maximal_drop: 0.001, ranking_subset_size: 8 } }] },
});

beforeAll(() => writeTinyDemo(DIR, N, CONFIG));
const env = useServedBrowser({ webgpu: true });

it('continues on WASM from the last snapshot when the WebGPU device is lost', async () => {
  const ui = await openPage(env.browser, `${env.served.url}?test`);
  const { page } = ui;
  await pickTinyDemo(page, DIR, N);
  await page.waitForSelector('[data-testid="import-note"].ok');
  await page.check('[data-testid="backend-webgpu"]');
  await page.waitForSelector('[data-testid="adapter-info"]');
  await page.evaluate(() => ((window as unknown as { __aaqTest: { loseGpuAfterSnapshot: boolean } }).__aaqTest.loseGpuAfterSnapshot = true));
  await page.click('[data-testid="start-run"]');
  await waitForResults(page, 420_000);
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  await page.click('[data-testid="nav-run"]');
  const fallback = (await page.textContent('[data-testid="fallback"]')) ?? '';
  const log = (await page.textContent('[data-testid="run-log"]')) ?? '';
  console.log(`WebGPU device lost: ${fallback}; engine ${report.engine.label}; final ${report.final.metrics['accuracy@top1']}`);
  expect(fallback).toContain('WebGPU failed during the run');
  expect(fallback).toContain('device');
  expect(fallback).toContain('running on WASM instead');
  expect(log).toContain('resuming from the last completed step on WASM');
  expect(report.engine.backend).toBe('wasm');
  expect(foreign(ui.requests, env.served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 600_000);
