// A tiny static server for the bench page: cross-origin isolated (COOP/COEP), everything from its
// own origin — the page bundle, onnxruntime-web's glue + .wasm (/ort/), and the models and samples
// the bench registers (/blob/<name>).
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

const ORT_FILES = new Set(['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']);

export interface BenchServer {
  url: string;
  blobs: Map<string, Uint8Array>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

export async function startServer(opts: { page: string; html: string; ortDist: string }): Promise<BenchServer> {
  const blobs = new Map<string, Uint8Array>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    let body: Uint8Array | undefined;
    let type = 'application/octet-stream';
    if (path === '/' || path === '/index.html') [body, type] = [readFileSync(opts.html), TYPES['.html']];
    else if (path === '/page.js') [body, type] = [readFileSync(opts.page), TYPES['.js']];
    else if (path.startsWith('/ort/') && ORT_FILES.has(path.slice(5))) {
      const f = path.slice(5);
      [body, type] = [readFileSync(join(opts.ortDist, f)), TYPES[f.slice(f.lastIndexOf('.'))]];
    } else if (path.startsWith('/blob/')) body = blobs.get(decodeURIComponent(path.slice(6)));
    if (path === '/favicon.ico') {
      res.statusCode = 204;
      res.end();
      return;
    }
    if (!body) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('Content-Type', type);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    blobs,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
