// Once loaded, the studio works offline: the service worker keeps the app, the demo and the WASM
// runtime. Also checks the security headers the preview server (npm start) sends.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openPage, ROOT, useServedBrowser } from './helpers';

const env = useServedBrowser();

it('serves the app with COOP/COEP and a strict CSP', async () => {
  const res = await fetch(env.served.url);
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("'wasm-unsafe-eval'");
  expect(csp).not.toContain("'unsafe-eval'");
  expect(csp).not.toMatch(/https?:/);
  // The _headers file for static hosts carries the same policy.
  const headersFile = readFileSync(join(ROOT, 'public/_headers'), 'utf8');
  expect(headersFile).toContain(`Content-Security-Policy: ${csp}`);
  expect(headersFile).toContain('Cross-Origin-Embedder-Policy: require-corp');
  const html = await res.text();
  expect(html).toContain('Content-Security-Policy');
  const wasm = await fetch(new URL('ort/ort-wasm-simd-threaded.wasm', env.served.url));
  expect(wasm.headers.get('content-type')).toBe('application/wasm');
});

it('works offline once loaded', async () => {
  const context = await env.browser.newContext({ serviceWorkers: 'allow', viewport: { width: 1360, height: 900 } });
  const workers: string[] = [];
  context.on('serviceworker', (w) => workers.push(w.url()));
  const ui = await openPage(env.browser, env.served.url, { context });
  const { page } = ui;
  // Wait until the service worker is active and has cached everything it precaches.
  // (Polled with evaluate: waitForFunction does not await an async predicate.)
  const ready = () =>
    page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      if (reg?.active?.state !== 'activated' || !navigator.serviceWorker.controller) return false;
      for (const k of await caches.keys()) {
        if (await (await caches.open(k)).match(new URL('ort/ort-wasm-simd-threaded.wasm', location.href).href, { ignoreVary: true })) return true;
      }
      return false;
    });
  for (let i = 0; !(await ready()); i++) {
    if (i > 240) throw new Error('the service worker did not precache the app within 2 minutes');
    await page.waitForTimeout(500);
  }
  expect(workers.some((u) => u.endsWith('/sw.js'))).toBe(true);
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('[data-testid="try-demo"]');
  await page.click('[data-testid="try-demo"]');
  await page.waitForSelector('[data-testid="preview-grid"] figure', { timeout: 60_000 });
  const ort = await page.evaluate(async () => {
    const r = await fetch('ort/ort-wasm-simd-threaded.mjs');
    return r.ok;
  });
  expect(ort).toBe(true);
  expect(ui.problems).toEqual([]);
  await context.close();
}, 300_000);
