// Issue 12, studio half: the Results screen's final metric is the downloaded QDQ file's as
// onnxruntime-web's WASM build runs it (computed here independently, in Node: the file in a session
// with default options, argmax against the labels); the screen shows FP32 vs INT8 latency measured
// in the page's worker and the simulation-vs-exported check; and a deliberately broken export (a
// weight scale ×4, test hook of a page opened with ?test) raises the disagreement warning and ends
// "Target not met by the exported model".

import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { parseNpy } from '../../src/core/data/npy';
import type { RunReport } from '../../src/core/report';
import { createNodeEngine } from '../../src/node/engines';
import { readFileSync } from 'node:fs';
import { downloadBytes, openPage, ROOT, shot, useServedBrowser, waitForResults } from './helpers';
import { pickTinyDemo, saveArtifact, writeTinyDemo } from './reference';

const N = 120;
const DIR = join(ROOT, '.aaq-tmp/e2e/deployed');
const M = 'accuracy@top1';

const CONFIG = `/* issue 12: final figures from the exported model */
{
  "model": { "model_name": "fmnist-resnet", "model": "fmnist-resnet.onnx" },
  "engine": {
    "dataset": { "data_source": "x${N}.npy", "labels": "y${N}.npy", "color": "gray",
                 "preprocessing": [ { "type": "normalization", "mean": 72.93, "std": 90.015 } ] },
    "metrics": [ { "name": "accuracy@top1" } ]
  },
  "compression": { "algorithms": [ { "name": "AccuracyAwareQuantization",
    "params": { "stat_subset_size": 64, "maximal_drop": 0.02 } } ] }
}
`;

beforeAll(() => writeTinyDemo(DIR, N, CONFIG));
const env = useServedBrowser();

/** Top-1 accuracy of a model file in onnxruntime-web's WASM build (Node, default options), batches of 16. */
async function wasmAccuracy(model: Uint8Array): Promise<number> {
  const x = parseNpy(new Uint8Array(readFileSync(join(DIR, `x${N}.npy`))), 'x');
  const y = parseNpy(new Uint8Array(readFileSync(join(DIR, `y${N}.npy`))), 'y');
  const [n, h, w] = x.shape;
  const engine = await createNodeEngine('wasm');
  const s = await engine.createSession(model);
  let correct = 0;
  try {
    for (let i = 0; i < n; i += 16) {
      const b = Math.min(16, n - i);
      const data = new Float32Array(b * h * w);
      for (let k = 0; k < data.length; k++) data[k] = ((x.data[i * h * w + k] as number) - 72.93) / 90.015;
      const out = await engine.run(s, { [s.inputNames[0]]: { type: 'float32', dims: [b, 1, h, w], data } });
      const logits = out[s.outputNames[0]].data as Float32Array;
      const classes = logits.length / b;
      for (let k = 0; k < b; k++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (logits[k * classes + c] > logits[k * classes + best]) best = c;
        if (best === Number(y.data[i + k])) correct++;
      }
    }
  } finally {
    await engine.dispose();
  }
  return correct / n;
}

async function runOnce(page: Page, breakExport: boolean): Promise<{ report: RunReport; qdq: Buffer }> {
  await page.evaluate((b) => ((window as unknown as { __aaqTest: { breakExportScale: boolean } }).__aaqTest.breakExportScale = b), breakExport);
  await pickTinyDemo(page, DIR, N);
  await page.waitForSelector('[data-testid="import-note"]');
  await page.check('[data-testid="backend-wasm"]');
  await page.click('[data-testid="start-run"]');
  await waitForResults(page);
  await page.waitForSelector('[data-testid="deploy-check"]');
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  const qdq = await downloadBytes(page, 'download-qdq');
  return { report, qdq };
}

it('Results: final metric of the downloaded file in onnxruntime-web WASM, measured latency, the simulation check; a broken export warns', async () => {
  const ui = await openPage(env.browser, `${env.served.url}?test`);
  const { page } = ui;

  // 1. A normal run.
  const { report, qdq } = await runOnce(page, false);
  await shot(page, 'results-deployment');
  saveArtifact('deployed-report.json', JSON.stringify(report, null, 2));
  const wasm = await wasmAccuracy(qdq);
  const ex = report.exported![0];
  const lat = report.latency![0];
  console.log(
    `studio: simulated ${report.simulated!.final[M]}, exported ${report.final.metrics[M]} (the downloaded file in onnxruntime-web WASM: ${wasm}), ` +
      `agreement ${ex.agreement_top1}; ${lat.label}: ${lat.rows.map((r) => `batch ${r.batch} FP32 ${r.fp32_ms} ms → INT8 ${r.int8_ms} ms`).join(', ')}; status ${report.aaq?.status}`,
  );
  expect(report.final.metrics[M]).toBe(wasm);
  expect(ex.backend).toBe('wasm');
  expect(await page.textContent(`[data-testid="final-${M}"]`)).toBe(`${(wasm * 100).toFixed(2)} %`);
  expect(await page.textContent(`[data-testid="simulated-${M}"]`)).toBe(`${(report.simulated!.final[M] * 100).toFixed(2)} %`);
  expect(await page.textContent(`[data-testid="exported-wasm-${M}"]`)).toBe(`${(wasm * 100).toFixed(2)} %`);
  expect(await page.textContent('[data-testid="agreement-wasm"]')).toContain(`${(ex.agreement_top1 * 100).toFixed(2)} %`);
  // measured FP32 vs INT8 latency on the page's WASM engine, batch 1 and the run's 16
  expect(lat.rows.map((r) => r.batch)).toEqual([1, 16]);
  for (const r of lat.rows) {
    expect(r.fp32_ms > 0 && r.int8_ms > 0).toBe(true);
    const row = await page.textContent(`[data-testid="latency-wasm-${r.batch}"]`);
    expect(row).toContain(`${r.fp32_ms < 10 ? r.fp32_ms.toFixed(2) : r.fp32_ms.toFixed(1)} ms`);
    expect(row).toContain(`${r.int8_ms < 10 ? r.int8_ms.toFixed(2) : r.int8_ms.toFixed(1)} ms`);
  }
  expect(!!(await page.$('[data-testid="latency-warning"]'))).toBe(lat.rows.some((r) => r.int8_ms > r.fp32_ms));
  const apart = Math.abs(ex.metrics[M] - ex.simulated[M]) > 0.005 || ex.agreement_top1 < 0.995;
  expect(!!(await page.$('[data-testid="deploy-warning"]'))).toBe(apart);
  expect(!!(await page.$('[data-testid="deploy-ok"]'))).toBe(!apart);

  // 2. The same run with a broken export: the warning, and not "met".
  await page.goto(`${env.served.url}?test`);
  const broken = await runOnce(page, true);
  await shot(page, 'results-broken-export');
  const bx = broken.report.exported![0];
  console.log(
    `broken export: simulated ${broken.report.simulated!.final[M]}, exported ${broken.report.final.metrics[M]}, agreement ${bx.agreement_top1}, status ${broken.report.aaq?.status}`,
  );
  expect(broken.report.final.metrics[M]).toBe(await wasmAccuracy(broken.qdq));
  expect(await page.textContent('[data-testid="deploy-warning"]')).toContain('disagrees with the simulation');
  expect(broken.report.simulated!.status).toBe('met');
  expect(broken.report.aaq?.status).toBe('not-met-exported');
  expect(await page.textContent('[data-testid="result-status"]')).toBe('Target not met by the exported model');
  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 600_000);
