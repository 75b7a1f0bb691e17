// The two Node back ends: onnxruntime-node (native, the CLI default) and onnxruntime-web's WASM
// build running in Node (single-threaded; the same kernels the browser's WASM engine uses).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OrtEngine, type OrtModule, type OrtSessionOptions } from '../core/engine/ort-common';
import { CPU_ENGINE } from '../core/engine/traits';

export type NodeEngineKind = 'native' | 'wasm';

export interface NodeEngineOptions {
  /** Intra-op threads for the native engine (default: onnxruntime's own choice). The WASM engine
   *  is always single-threaded in Node (onnxruntime-web supports no threads there). */
  threads?: number;
  /** Extra session options merged over the defaults. */
  sessionOptions?: OrtSessionOptions;
}

const require = createRequire(import.meta.url);

/** Creates a Node engine. The runtime package is imported lazily, so the native binding is not
 *  loaded when only WASM is used, and vice versa. */
export async function createNodeEngine(kind: NodeEngineKind, opts: NodeEngineOptions = {}): Promise<OrtEngine> {
  if (kind === 'native') return createNativeEngine(opts);
  if (kind === 'wasm') return createWasmEngine(opts);
  throw new Error(`unknown engine '${String(kind)}' (expected native or wasm)`);
}

async function createNativeEngine(opts: NodeEngineOptions): Promise<OrtEngine> {
  const ort = (await import('onnxruntime-node')) as unknown as OrtModule & { env?: { versions?: unknown } };
  const threads = opts.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new Error(`threads: ${threads} (expected a positive integer)`);
  }
  const sessionOptions: OrtSessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    ...opts.sessionOptions,
  };
  const label = `onnxruntime-node ${pkgVersion('onnxruntime-node')}${threads ? `, ${threads} thread(s)` : ''}`;
  return new OrtEngine('native', pickModule(ort), { sessionOptions, label, name: 'onnxruntime-node', traits: CPU_ENGINE });
}

interface OrtWebModule extends OrtModule {
  env: { wasm: { numThreads?: number; proxy?: boolean; wasmBinary?: ArrayBufferLike | Uint8Array } };
}

let wasmReady = false;

async function createWasmEngine(opts: NodeEngineOptions): Promise<OrtEngine> {
  // The package's `node` export (dist/ort.node.min.mjs): the CPU-only WASM build.
  const ort = (await import('onnxruntime-web')) as unknown as OrtWebModule;
  if (!wasmReady) {
    // Node supports only single-threaded WASM; set it before the first session initialises the
    // runtime. Hand the .wasm bytes over ourselves, read from node_modules: never a fetch.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    if (!ort.env.wasm.wasmBinary) ort.env.wasm.wasmBinary = readFileSync(wasmFilePath());
    wasmReady = true;
  }
  const sessionOptions: OrtSessionOptions = {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    ...opts.sessionOptions,
  };
  const label = `onnxruntime-web ${pkgVersion('onnxruntime-web')} wasm (Node, 1 thread)`;
  return new OrtEngine('wasm', pickModule(ort), { sessionOptions, label, name: 'WASM', traits: CPU_ENGINE });
}

/** Path of the CPU WASM binary that onnxruntime-web's Node build loads. */
export function wasmFilePath(): string {
  // `require.resolve('onnxruntime-web')` → …/onnxruntime-web/dist/ort.node.min.js
  return join(dirname(require.resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm');
}

function pickModule(m: OrtModule): OrtModule {
  return { InferenceSession: m.InferenceSession, Tensor: m.Tensor };
}

function pkgVersion(name: string): string {
  try {
    // package.json is not in the packages' exports: find it next to the resolved entry.
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 4; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? '?';
      } catch {
        /* keep climbing */
      }
      dir = dirname(dir);
    }
  } catch {
    /* not resolvable */
  }
  return '?';
}
