// Issue 6, studio half: determinism and a crashed run worker. The demo runs twice on WASM: the QDQ
// model downloads are byte-identical and the reports equal apart from timings and dates. A third
// run has its run worker killed in the middle of ranking (test hook, page opened with ?test): the
// studio restarts the worker, says so, continues from the last snapshot and ends with the same
// QDQ bytes and the same search as the uninterrupted runs.

import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, openPage, waitForResults, useServedBrowser } from './helpers';

const env = useServedBrowser();

interface Outcome {
  qdq: Buffer;
  report: RunReport;
  page: Page;
}

async function runDemo(during?: (page: Page) => Promise<void>): Promise<Outcome> {
  const ui = await openPage(env.browser, `${env.served.url}?test`);
  const { page } = ui;
  await page.click('[data-testid="try-demo"]');
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.click('[data-testid="to-configure"]');
  await page.check('[data-testid="backend-wasm"]');
  await page.click('[data-testid="start-run"]');
  if (during) await during(page);
  await waitForResults(page);
  const qdq = await downloadBytes(page, 'download-qdq');
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  expect(foreign(ui.requests, env.served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);
  return { qdq, report, page };
}

/** The report without what may differ between equal runs: timings, dates, run ids. */
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (/^timings$|^latency$|time|_ms$|Ms$|seconds|date|created|started|finished|wall|duration|run_?id/i.test(k)) continue;
      out[k] = stable(x);
    }
    return out;
  }
  return v;
}

let first: Outcome | undefined;

it('gives byte-identical QDQ models and equal reports for the demo run twice (WASM)', async () => {
  const a = await runDemo();
  const b = await runDemo();
  first = a;
  console.log(`determinism: QDQ ${a.qdq.length} B, identical ${a.qdq.equals(b.qdq)}; reverted ${a.report.reverted.map((r) => r.group).join(', ')}`);
  expect(a.qdq.equals(b.qdq)).toBe(true);
  expect(stable(b.report)).toEqual(stable(a.report));
  await a.page.context().close();
  await b.page.context().close();
}, 600_000);

it('restarts a crashed run worker and continues to the same result', async () => {
  const c = await runDemo(async (page) => {
    await page.waitForSelector('[data-stage="ranking"].active', { timeout: 240_000 });
    expect(await page.evaluate(() => (window as unknown as { __aaqTest: { crashWorker(): boolean } }).__aaqTest.crashWorker())).toBe(true);
  });
  const { page } = c;
  expect(await page.evaluate(() => (window as unknown as { __aaqTest: { restarts: number } }).__aaqTest.restarts)).toBe(1);
  await page.click('[data-testid="nav-run"]');
  expect((await page.locator('[data-testid="run-warning"]').allTextContents()).join('\n')).toContain('run worker stopped unexpectedly');
  expect(await page.textContent('[data-testid="run-log"]')).toContain('Resuming at Ranking');
  const ref = first ?? (await runDemo());
  const m = 'accuracy@top1';
  console.log(`worker crash: restarted once, final ${c.report.final.metrics[m]} (uninterrupted ${ref.report.final.metrics[m]}), QDQ identical ${c.qdq.equals(ref.qdq)}`);
  expect(c.qdq.equals(ref.qdq)).toBe(true);
  expect(c.report.final).toEqual(ref.report.final);
  expect(c.report.reverted).toEqual(ref.report.reverted);
  expect(c.report.aaq?.history.map((h) => [h.group, h.metrics[m], h.accepted])).toEqual(ref.report.aaq?.history.map((h) => [h.group, h.metrics[m], h.accepted]));
  await page.context().close();
}, 600_000);
