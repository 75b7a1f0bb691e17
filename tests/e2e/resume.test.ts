// Reload in the middle of ranking → the page offers to resume → the run finishes with exactly the
// result of an uninterrupted run (the CLI's, which the demo test shows equals the browser's). A
// second interruption with the data files dropped from storage: the page asks for them again,
// refuses different files (fingerprint) and resumes with the right ones.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report';
import { downloadBytes, foreign, openPage, ROOT, shot, waitForResults, useServedBrowser } from './helpers';
import { cliReport, DEMO } from './reference';

const env = useServedBrowser();

async function startDemo(page: Page): Promise<void> {
  await page.click('[data-testid="try-demo"]');
  await page.waitForSelector('[data-testid="preview-grid"] figure');
  await page.click('[data-testid="to-configure"]');
  await page.check('[data-testid="backend-wasm"]');
  await page.click('[data-testid="start-run"]');
}

/** Reloads while the groups are being ranked; returns the interrupted run's id. */
async function reloadWhileRanking(page: Page): Promise<string> {
  // The ranking stage, or whatever ended the run before it (then say what it was).
  await page.waitForFunction(() => document.querySelector('[data-stage="ranking"].active, [data-testid="run-error"], [data-testid="results"]'), null, {
    timeout: 240_000,
    polling: 50,
  });
  if (!(await page.$('[data-stage="ranking"].active'))) {
    const why = (await page.$('[data-testid="run-error"]')) ? 'the run failed' : 'the run finished before it was seen ranking';
    throw new Error(`${why}: ${await page.textContent('[data-testid="run-error"], [data-testid="run-log"]')}`);
  }
  await page.reload();
  const button = await page.waitForSelector('[data-testid="resume-run"]', { timeout: 30_000 });
  return (await button.getAttribute('data-run'))!;
}

function sameResult(a: RunReport, b: RunReport): void {
  const m = 'accuracy@top1';
  expect(a.final.metrics[m]).toBe(b.final.metrics[m]);
  expect(a.reverted).toEqual(b.reverted);
  expect(a.aaq?.status).toBe(b.aaq?.status);
  expect(a.aaq?.history.map((h) => [h.group, h.metrics[m], h.accepted])).toEqual(b.aaq?.history.map((h) => [h.group, h.metrics[m], h.accepted]));
  expect(a.aaq?.rankings.map((r) => r.scores)).toEqual(b.aaq?.rankings.map((r) => r.scores));
}

it('resumes a run reloaded during ranking and ends with the uninterrupted result', async () => {
  const cli = await cliReport(join(DEMO, 'demo.config.json'));
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  await startDemo(page);
  const runId = await reloadWhileRanking(page);
  await shot(page, 'resume-offer');
  expect(await page.textContent('[data-testid="resume-banner"]')).toContain('rank');
  await page.click(`[data-testid="resume-run"][data-run="${runId}"]`);
  await waitForResults(page);
  expect(await page.textContent('[data-testid="run-log"]')).toContain("Resuming from phase 'rank'");
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  sameResult(report, cli);
  expect(foreign(ui.requests, env.served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 600_000);

it('asks for the data again when the browser did not keep it, and checks the fingerprint', async () => {
  const cli = await cliReport(join(DEMO, 'demo.config.json'));
  const ui = await openPage(env.browser, env.served.url);
  const { page } = ui;
  await startDemo(page);
  const runId = await reloadWhileRanking(page);
  // Drop the stored data files, as when they were too big to keep.
  await page.evaluate(async (id) => {
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('aaq-studio');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const tx = db.transaction('snapshots', 'readwrite');
    const st = tx.objectStore('snapshots');
    st.delete(`${id}\u0000data`);
    const get = st.get(`${id}\u0000meta`);
    get.onsuccess = () => st.put({ ...get.result, dataStored: false }, `${id}\u0000meta`);
    await new Promise((res) => (tx.oncomplete = res));
    db.close();
  }, runId);
  await page.click(`[data-testid="resume-run"][data-run="${runId}"]`);
  await page.waitForSelector('[data-testid="needs-data"]');

  // Different files under the same names: refused.
  const dir = join(ROOT, '.aaq-tmp/e2e/resume');
  mkdirSync(join(dir, 'wrong'), { recursive: true });
  const x = readFileSync(join(DEMO, 'fmnist-300-x.npy'));
  x[x.length - 1] ^= 0xff;
  writeFileSync(join(dir, 'wrong/fmnist-300-x.npy'), x);
  writeFileSync(join(dir, 'wrong/fmnist-300-y.npy'), readFileSync(join(DEMO, 'fmnist-300-y.npy')));
  await page.setInputFiles('[data-testid="repick-files"]', [join(dir, 'wrong/fmnist-300-x.npy'), join(dir, 'wrong/fmnist-300-y.npy')]);
  await page.waitForFunction(() => document.querySelector('[data-testid="needs-data"]')?.textContent?.includes('not the run'));
  await shot(page, 'resume-needs-data');

  await page.setInputFiles('[data-testid="repick-files"]', [join(DEMO, 'fmnist-300-x.npy'), join(DEMO, 'fmnist-300-y.npy')]);
  await waitForResults(page);
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  sameResult(report, cli);
  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 600_000);
