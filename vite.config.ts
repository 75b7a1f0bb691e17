import { defineConfig, type Plugin } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createReadStream, mkdirSync, copyFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const ortDist = join(root, 'node_modules/onnxruntime-web/dist');

/** The onnxruntime-web runtime files the studio loads (from /ort/ on its own origin):
 *  the CPU pair for the WASM engine, the asyncify pair for the native WebGPU EP. */
export const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/** No external origin anywhere. 'wasm-unsafe-eval' lets WebAssembly compile; nothing needs
 *  'unsafe-eval'. Workers (ours and onnxruntime's pthreads) come from 'self'. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

// Cross-origin isolation (needed for multi-threaded WASM) in dev and preview.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function mime(file: string): string {
  return file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
}

/** Serves the ort runtime from node_modules in dev, copies it into dist/ort/ on build (so the 40 MB
 *  of binaries never go into git), injects the CSP into the built index.html and writes the
 *  service worker's precache list. */
function studioAssets(): Plugin {
  let outDir = 'dist';
  return {
    name: 'aaq-studio-assets',
    configResolved(c) {
      outDir = resolve(c.root, c.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /^\/ort\/([^?]+)/.exec(req.url ?? '');
        if (!m || !ORT_FILES.includes(m[1])) return next();
        res.setHeader('Content-Type', mime(m[1]));
        createReadStream(join(ortDist, m[1])).pipe(res);
      });
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        if (ctx.server) return html; // dev: HMR needs inline scripts and a websocket
        return html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`);
      },
    },
    writeBundle() {
      mkdirSync(join(outDir, 'ort'), { recursive: true });
      for (const f of ORT_FILES) copyFileSync(join(ortDist, f), join(outDir, 'ort', f));
      // Everything except the WebGPU runtime (27 MB, cached on first use instead) is precached.
      const files: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d)) {
          const p = join(d, e);
          if (statSync(p).isDirectory()) walk(p);
          else files.push('/' + relative(outDir, p).split('\\').join('/'));
        }
      };
      walk(outDir);
      const precache = files.filter((f) => !f.includes('.asyncify.') && f !== '/sw.js' && f !== '/_headers' && !f.endsWith('.map'));
      writeFileSync(join(outDir, 'precache.json'), JSON.stringify({ version: Date.now().toString(36), files: ['/', ...precache] }));
    },
  };
}

const vitest = !!process.env.VITEST;

export default defineConfig({
  plugins: vitest ? [] : [svelte(), studioAssets()],
  resolve: {
    // The extern-wasm builds load their glue + .wasm from env.wasm.wasmPaths (/ort/) at run time;
    // the default "bundle" builds would make Vite emit a second copy of each binary.
    alias: vitest
      ? []
      : [
          { find: /^onnxruntime-web\/wasm$/, replacement: join(ortDist, 'ort.wasm.min.mjs') },
          { find: /^onnxruntime-web\/webgpu$/, replacement: join(ortDist, 'ort.webgpu.min.mjs') },
        ],
  },
  server: { headers: isolation },
  preview: { headers: { ...isolation, 'Content-Security-Policy': CSP } },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 1500 },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
