// The demo, end to end on WASM: same result as the CLI, a QDQ model that onnxruntime-node scores
// the same, no request outside the origin, no main-thread task over 200 ms during the run, and a
// screenshot of every screen.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, openPage, shot, waitForResults, useServedBrowser } from './helpers';
import { cliReport, DEMO, nodeAccuracy, saveArtifact } from './reference';

const env = useServedBrowser();

it('runs the demo on WASM to the end, as the CLI does', async () => {
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  const origin = env.served.url.replace(/\/$/, '');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

  await page.click('[data-testid="try-demo"]');
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  expect(await page.textContent('[data-testid="data-size"]')).toBe('300');
  await shot(page, 'load');

  await page.click('[data-testid="to-configure"]');
  await page.check('[data-testid="backend-wasm"]');
  await page.waitForSelector('[data-testid="cli-command"]');
  expect(await page.textContent('[data-testid="cli-command"]')).toMatch(/^aaq quantize/);
  expect(await page.textContent('[data-testid="cli-install"]')).toContain('npm run build:cli && npm install -g .');
  await shot(page, 'configure');

  const wall = Date.now();
  const t0 = await ui.now();
  await page.click('[data-testid="start-run"]');
  // The Run screen, once the search is ranking groups (the screenshot itself is not timed).
  await page.waitForSelector('[data-stage="ranking"].active, [data-stage="iteration"].active, [data-testid="results"]', { timeout: 240_000 });
  const s0 = await ui.now();
  await shot(page, 'run');
  const s1 = await ui.now();
  await waitForResults(page);
  const t1 = await ui.now();
  const seconds = (Date.now() - wall) / 1000;
  const tasks = (await ui.longTasks()).filter((t) => t.start >= t0 && t.start <= t1 && !(t.start < s1 && t.start + t.duration > s0));
  const longest = Math.max(0, ...tasks.map((t) => t.duration));
  await shot(page, 'results');

  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  const qdq = await downloadBytes(page, 'download-qdq');
  const config = (await downloadBytes(page, 'download-config')).toString('utf8');
  saveArtifact('demo-wasm-report.json', JSON.stringify(report, null, 2));
  saveArtifact('demo-wasm-int8.onnx', qdq);
  const m = 'accuracy@top1';
  console.log(
    `demo on WASM: ${seconds.toFixed(1)} s (${report.engine.label}); final ${report.final.metrics[m]}, reverted ${report.reverted.length}/${report.groups_total}; ` +
      `${ui.requests.length} requests, all same-origin: ${foreign(ui.requests, origin).length === 0}; longest long task during the run ${longest.toFixed(0)} ms (${tasks.length} over 50 ms)`,
  );

  expect(foreign(ui.requests, origin)).toEqual([]);
  expect(ui.problems).toEqual([]);
  expect(longest).toBeLessThan(200);
  expect(report.engine.backend).toBe('wasm');
  expect(config).toContain('AccuracyAwareQuantization');

  // The CLI on the same model, data and config.
  const cli = await cliReport(join(DEMO, 'demo.config.json'));
  expect(report.reverted.map((r) => r.group)).toEqual(cli.reverted.map((r) => r.group));
  expect(Math.abs(report.final.metrics[m] - cli.final.metrics[m])).toBeLessThanOrEqual(0.005);
  expect(report.baseline.metrics[m]).toBeCloseTo(cli.baseline.metrics[m], 6);
  expect(report.aaq?.status).toBe(cli.aaq?.status);

  // The downloaded QDQ model in onnxruntime-node gives the reported metric.
  const acc = await nodeAccuracy(qdq, join(DEMO, 'fmnist-300-x.npy'), join(DEMO, 'fmnist-300-y.npy'), 72.93, 90.015);
  console.log(`QDQ model in onnxruntime-node: ${acc} (reported ${report.final.metrics[m]})`);
  expect(Math.abs(acc - report.final.metrics[m])).toBeLessThanOrEqual(0.005);
  await ui.context.close();
}, 600_000);
