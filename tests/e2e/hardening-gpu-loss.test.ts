// Issue 6, studio half: the WebGPU device is lost mid-run. The page (opened with ?test) asks the run
// worker to make the WebGPU engine fail as a lost GPUDevice does right after the first snapshot; the
// run must carry on on WASM from that snapshot, say so, and finish. Tiny (48 samples), as
// SwiftShader emulates the GPU on the CPU.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, launch, openPage, ROOT, serve, waitForResults, type Served } from './helpers';
import { DEMO } from './reference';

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

it('continues on WASM from the last snapshot when the WebGPU device is lost', async () => {
  const ui = await openPage(browser, `${served.url}?test`);
  const { page } = ui;
  await page.setInputFiles('[data-testid="model-input"]', join(DIR, 'fmnist-resnet.onnx'));
  await page.waitForSelector('[data-testid="model-summary"]');
  await page.setInputFiles('[data-testid="data-files-input"]', [join(DIR, `x${N}.npy`), join(DIR, `y${N}.npy`)]);
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.click('[data-testid="to-configure"]');
  await page.setInputFiles('[data-testid="config-import"]', join(DIR, 'tiny.config.json'));
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
  expect(foreign(ui.requests, served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 600_000);
