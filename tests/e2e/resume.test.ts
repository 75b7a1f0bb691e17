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
  // The banner names the stage as the stage list does, not the internal phase.
  expect(await page.textContent('[data-testid="resume-banner"]')).toContain('stopped at Ranking');
  await page.click(`[data-testid="resume-run"][data-run="${runId}"]`);
  await waitForResults(page);
  expect(await page.textContent('[data-testid="run-log"]')).toContain('Resuming at Ranking (0 iterations done)');
  const report = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  sameResult(report, cli);

  // The report says it was resumed; its times cover the part before the reload too.
  expect(report.resumed).toBe(true);
  const i = report.interruption!;
  expect([i.phase, i.iterations, i.resumes]).toEqual(['rank', 0, 1]);
  expect(i.before_ms).toBeGreaterThan(0);
  expect(i.before_ms! + i.resumed_ms).toBeCloseTo(report.timings.total, 6);
  expect(Date.parse(i.started_at)).toBeLessThanOrEqual(Date.parse(i.last_checkpoint_at!));
  expect(Date.parse(i.last_checkpoint_at!)).toBeLessThan(Date.parse(i.resumed_at));
  expect(await page.textContent('[data-testid="resumed-note"]')).toContain('resumed at Ranking');

  // The Run and Results screens as after an uninterrupted run: every stage done, the whole run's
  // time, nothing overlapping, "Change settings and run again" enabled.
  const resumed = await screens(page, 'resumed');
  expect(resumed.stages.length).toBeGreaterThanOrEqual(6);
  expect(resumed.stages.filter((st) => !st.done)).toEqual([]);
  expect(resumed.elapsedS).toBeGreaterThanOrEqual(Math.floor(report.timings.total / 1000) - 1);
  expect(resumed.overlaps).toEqual([]);
  expect(resumed.runAgain).toBe(true);

  // The same screens after an uninterrupted run, started with "Change settings and run again"
  // (the run's model, data and config come back from browser storage after the reload).
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.click('[data-testid="run-again"]');
  await page.waitForSelector('[data-testid="start-run"]:visible');
  await page.click('[data-testid="start-run"]');
  await page.waitForFunction(() => !document.querySelector('[data-testid="results"]'));
  await waitForResults(page);
  const fresh = JSON.parse((await downloadBytes(page, 'download-report')).toString('utf8')) as RunReport;
  sameResult(fresh, cli);
  expect(fresh.resumed).toBe(false);
  expect(fresh).not.toHaveProperty('interruption');
  const uninterrupted = await screens(page, 'uninterrupted');
  expect(resumed.stages).toEqual(uninterrupted.stages);
  expect(uninterrupted.overlaps).toEqual([]);

  expect(foreign(ui.requests, env.served.url.replace(/\/$/, ''))).toEqual([]);
  expect(ui.problems).toEqual([]);
  await ui.context.close();
}, 600_000);

interface ScreenFacts {
  stages: { stage: string; done: boolean }[];
  elapsedS: number;
  /** Cards that overlap each other, and charts or the layer table that leave their card, at 1366×768 and 390×844. */
  overlaps: string[];
  runAgain: boolean;
}

/** Run and Results screens as the DOM lays them out (screenshots saved for people to look at). */
async function screens(page: Page, name: string): Promise<ScreenFacts> {
  const overlaps: string[] = [];
  let stages: ScreenFacts['stages'] = [];
  let elapsedS = NaN;
  for (const [w, h] of [
    [1366, 768],
    [390, 844],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    for (const screen of ['run', 'results'] as const) {
      await page.click(`[data-testid="nav-${screen}"]`);
      // Charts resize on the next frames.
      await page.waitForTimeout(400);
      await shot(page, `resume-${name}-${screen}-${w}`);
      overlaps.push(...(await page.evaluate(layoutProblems)).map((p) => `${screen} at ${w} px: ${p}`));
      if (screen === 'run') {
        stages = await page.$$eval('[data-testid="stages"] [data-stage]', (ls) => ls.map((l) => ({ stage: l.getAttribute('data-stage')!, done: l.classList.contains('done') })));
        elapsedS = parseElapsed((await page.textContent('[data-testid="elapsed"]')) ?? '');
      }
    }
  }
  const runAgain = await page.isEnabled('[data-testid="run-again"]');
  return { stages, elapsedS, overlaps, runAgain };
}

/** "elapsed 1 min 5 s" → 65. */
function parseElapsed(text: string): number {
  const m = /(?:(\d+) min )?(\d+) s/.exec(text);
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : NaN;
}

/** In the page: visible cards that overlap, and charts or scroll boxes (the layer table's) that stick out of their card. */
function layoutProblems(): string[] {
  const out: string[] = [];
  const screen = [...document.querySelectorAll('main > .screen')].find((s) => !(s as HTMLElement).hidden)!;
  const cards = [...screen.querySelectorAll<HTMLElement>('.card')].filter((c) => c.offsetParent !== null && !c.parentElement?.closest('.card'));
  const name = (e: Element) => (e.querySelector('h2, h3, summary')?.textContent ?? e.getAttribute('data-testid') ?? e.tagName).trim().slice(0, 40);
  const rects = cards.map((c) => c.getBoundingClientRect());
  for (let a = 0; a < cards.length; a++) {
    for (let b = a + 1; b < cards.length; b++) {
      const [p, q] = [rects[a], rects[b]];
      const x = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const y = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (x > 1 && y > 1) out.push(`'${name(cards[a])}' overlaps '${name(cards[b])}' (${x.toFixed(0)}×${y.toFixed(0)} px)`);
    }
    for (const inner of cards[a].querySelectorAll<HTMLElement>('canvas, .scroll')) {
      const r = inner.getBoundingClientRect();
      const c = rects[a];
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1) {
        out.push(
          `a ${inner.tagName.toLowerCase()} sticks out of '${name(cards[a])}' ([${r.left.toFixed(0)}, ${r.right.toFixed(0)}]×[${r.top.toFixed(0)}, ${r.bottom.toFixed(0)}] in [${c.left.toFixed(0)}, ${c.right.toFixed(0)}]×[${c.top.toFixed(0)}, ${c.bottom.toFixed(0)}])`,
        );
      }
    }
  }
  return out;
}

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
