// Browser-test plumbing: build the app once (when sources changed), serve dist/ with Vite's preview
// server (COOP/COEP + CSP headers from vite.config.ts) on a free port, and drive Debian's Chromium
// through playwright-core. Pages are instrumented: every request, CSP violations, console errors
// and main-thread long tasks are recorded.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHOTS = join(ROOT, 'test-results/screenshots');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.e2e-build');

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = s.mtimeMs;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Builds dist/ unless it is newer than every source (one build at a time across test files). */
export async function ensureBuilt(): Promise<void> {
  const lock = join(ROOT, '.aaq-tmp/e2e-build.lock');
  mkdirSync(join(ROOT, '.aaq-tmp'), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 600) rmSync(lock, { recursive: true, force: true });
      await sleep(500);
    }
  }
  try {
    const sources = Math.max(...['src', 'workers', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => newest(join(ROOT, p))));
    if (existsSync(STAMP) && statSync(STAMP).mtimeMs > sources) return;
    const env = { ...process.env };
    delete env.VITEST;
    delete env.VITEST_POOL_ID;
    delete env.VITEST_WORKER_ID;
    delete env.NODE_ENV;
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: ROOT, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
    writeFileSync(STAMP, String(Date.now()));
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Served {
  url: string;
  server: PreviewServer;
  close(): Promise<void>;
}

export async function serve(): Promise<Served> {
  await ensureBuilt();
  const port = await freePort();
  const server = await preview({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', preview: { port, strictPort: true, host: '127.0.0.1', open: false } });
  const url = `http://127.0.0.1:${port}/`;
  return { url, server, close: () => server.close() };
}

export async function launch(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
  if (opts.webgpu) args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader');
  else args.push('--disable-gpu');
  // launch() uses a fresh temporary profile (user-data-dir) each time.
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args, timeout: 60_000 });
}

export interface Instrumented {
  context: BrowserContext;
  page: Page;
  requests: string[];
  problems: string[];
  /** Long tasks (main thread) recorded by the page, [startTime, duration] in ms. */
  longTasks(): Promise<{ start: number; duration: number }[]>;
  now(): Promise<number>;
}

const INIT = `
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { window.__longTasks = null; }
  document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
`;

export async function openPage(browser: Browser, url: string, opts: { serviceWorkers?: 'allow' | 'block'; context?: BrowserContext } = {}): Promise<Instrumented> {
  const context = opts.context ?? (await browser.newContext({ serviceWorkers: opts.serviceWorkers ?? 'block', acceptDownloads: true, viewport: { width: 1360, height: 900 } }));
  const requests: string[] = [];
  const problems: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  await context.addInitScript(INIT);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url);
  return {
    context,
    page,
    requests,
    problems,
    longTasks: () => page.evaluate(() => (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks ?? []),
    now: () => page.evaluate(() => performance.now()),
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Requests that went anywhere but the app's own origin (blob:/data: URLs are local). */
export function foreign(requests: string[], origin: string): string[] {
  return requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
}

/** Waits for the Results screen, failing early with the page's error when the run fails. */
export async function waitForResults(page: Page, timeout = 300_000): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-testid="results"]') || document.querySelector('[data-testid="run-error"]'), null, { timeout, polling: 250 });
  const err = await page.$('[data-testid="run-error"]');
  if (err) throw new Error(`the run failed: ${await err.textContent()}`);
}

export async function downloadBytes(page: Page, testid: string): Promise<Buffer> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid="${testid}"]`)]);
  const stream = await dl.createReadStream();
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** One preview server and one Chromium for a test file, started before its tests and closed after. */
export function useServedBrowser(opts: { webgpu?: boolean } = {}): { readonly served: Served; readonly browser: Browser } {
  let served: Served | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    served = await serve();
    browser = await launch(opts);
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });
  return {
    get served() {
      if (!served) throw new Error('the preview server is not started (use inside a test)');
      return served;
    },
    get browser() {
      if (!browser) throw new Error('the browser is not launched (use inside a test)');
      return browser;
    },
  };
}
