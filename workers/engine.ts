// The inference engine of a browser run, created inside the run worker.
//
// Why the engine lives in the run worker and not in a worker of its own: the AAQ loop feeds the
// engine one batch after another and waits for each result, so a separate engine worker would only
// add a structured-clone copy of every batch and every output in both directions, and gain nothing —
// onnxruntime-web already runs its kernels on its own pthread workers (WASM) or on the GPU, and the
// page stays free either way because the whole run is off the main thread. The core's ranking is
// sequential, so there is no parallel ranking to spread over several engine workers yet.
//
// WASM uses the plain `onnxruntime-web/wasm` build (CPU-only, about 2× faster than the asyncify
// build on CPU); WebGPU uses `onnxruntime-web/webgpu` (the native WebGPU EP, not the deprecated
// JSEP), with the float-only fake-quant flavour, since that EP has no QuantizeLinear/Round kernels.

import { OrtEngine, type OrtModule, type OrtSessionOptions } from '../src/core/engine/ort-common';
import { CPU_ENGINE, GPU_ENGINE } from '../src/core/engine/traits';
import type { Engine, SessionInfo, TensorData } from '../src/core/types';
import type { EngineFactory } from '../src/core/run/open-run';
import type { BackendChoice, EngineInfo } from './protocol';

interface OrtWeb extends OrtModule {
  env: {
    wasm: { wasmPaths?: string | { mjs?: string; wasm?: string }; numThreads?: number; proxy?: boolean };
    versions?: Record<string, string>;
    logLevel?: string;
  };
}

declare const navigator: Navigator & { gpu?: { requestAdapter(o?: unknown): Promise<GpuAdapterLike | null> } };
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
}

/** Where the ort-wasm-simd-threaded*.{mjs,wasm} files are served: /ort/ on our own origin. */
function ortBase(): string {
  return new URL(`${import.meta.env.BASE_URL}ort/`, self.location.href).href;
}

function configure(ort: OrtWeb, threads: number): number {
  const n = self.crossOriginIsolated ? Math.max(1, Math.floor(threads)) : 1;
  ort.env.wasm.wasmPaths = ortBase();
  ort.env.wasm.numThreads = n;
  ort.env.wasm.proxy = false;
  return n;
}

const pick = (m: OrtModule): OrtModule => ({ InferenceSession: m.InferenceSession, Tensor: m.Tensor });

async function wasmEngine(threads: number): Promise<{ engine: OrtEngine; threads: number }> {
  const ort = (await import('onnxruntime-web/wasm')) as unknown as OrtWeb;
  const n = configure(ort, threads);
  const sessionOptions: OrtSessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  const label = `onnxruntime-web ${ort.env.versions?.web ?? ''} WASM, ${n} thread${n === 1 ? '' : 's'}`;
  return { engine: new OrtEngine('wasm', pick(ort), { sessionOptions, label, name: 'WASM', traits: CPU_ENGINE }), threads: n };
}

async function webgpuEngine(threads: number): Promise<{ engine: OrtEngine; threads: number }> {
  const ort = (await import('onnxruntime-web/webgpu')) as unknown as OrtWeb;
  const n = configure(ort, threads);
  const sessionOptions: OrtSessionOptions = { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' };
  const label = `onnxruntime-web ${ort.env.versions?.web ?? ''} WebGPU (native EP)`;
  return { engine: new OrtEngine('webgpu', pick(ort), { sessionOptions, label, name: 'WebGPU', traits: GPU_ENGINE }), threads: n };
}

/** A tiny model (y = x + 1) to prove a back end can create a session and run before a run starts. */
function probeModel(): Uint8Array {
  // ModelProto{ir_version 7, opset 13, graph{Add(x, one) -> y}} encoded with onnx-proto: 107 bytes.
  return Uint8Array.from(atob(PROBE_B64), (c) => c.charCodeAt(0));
}
const PROBE_B64 = 'CAcSBXByb2JlOloKFQoBeAoDb25lEgF5GgNhZGQiA0FkZBIFcHJvYmUqEAoBARABIgQAAIA/QgNvbmVaEwoBeBIOCgwIARIICgIIAQoCCARiEwoBeRIOCgwIARIICgIIAQoCCARCBAoAEA0=';

async function probe(engine: OrtEngine): Promise<void> {
  const s = await engine.createSession(probeModel());
  try {
    const out = await engine.run(s, { x: { type: 'float32', dims: [1, 4], data: new Float32Array([1, 2, 3, 4]) } });
    const y = out.y?.data as Float32Array | undefined;
    if (!y || y[3] !== 5) throw new Error(`the test model gave a wrong result (${y ? Array.from(y).join(',') : 'nothing'})`);
  } finally {
    await engine.release(s);
  }
}

async function adapterInfo(): Promise<EngineInfo['adapter'] | string> {
  if (!navigator.gpu) return 'this browser has no WebGPU (navigator.gpu is missing)';
  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    return `requesting a WebGPU adapter failed: ${(e as Error).message}`;
  }
  if (!adapter) return 'no WebGPU adapter is available (GPU blocked or unsupported)';
  const i = adapter.info ?? {};
  return { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '' };
}

export interface CreatedEngine {
  engine: OrtEngine;
  info: EngineInfo;
}

/**
 * The engine for `requested`. WebGPU falls back to WASM — with the reason in `info.fallback` — when
 * the browser has no WebGPU, no adapter, or the EP cannot run a test model.
 */
export async function createEngine(requested: BackendChoice, threads: number): Promise<CreatedEngine> {
  const base = { requested, crossOriginIsolated: self.crossOriginIsolated };
  if (requested === 'webgpu') {
    const adapter = await adapterInfo();
    if (typeof adapter !== 'string') {
      try {
        const { engine, threads: n } = await webgpuEngine(threads);
        await probe(engine);
        return { engine, info: { ...base, backend: 'webgpu', label: engine.label, threads: n, adapter, flavor: engine.traits.flavor } };
      } catch (e) {
        const why = `WebGPU could not run a test model (${(e as Error).message})`;
        return fallbackToWasm(base, threads, why);
      }
    }
    return fallbackToWasm(base, threads, adapter);
  }
  const { engine, threads: n } = await wasmEngine(threads);
  return { engine, info: { ...base, backend: 'wasm', label: engine.label, threads: n, flavor: engine.traits.flavor } };
}

export async function fallbackToWasm(base: { requested: BackendChoice; crossOriginIsolated: boolean }, threads: number, why: string): Promise<CreatedEngine> {
  const { engine, threads: n } = await wasmEngine(threads);
  return {
    engine,
    info: {
      ...base,
      backend: 'wasm',
      label: engine.label,
      threads: n,
      flavor: engine.traits.flavor,
      fallback: `${why[0].toUpperCase()}${why.slice(1)} — running on WASM instead.`,
    },
  };
}

/**
 * The engines of a studio run, as the core's run pipeline asks for them: the requested back end
 * (WebGPU falling back to WASM when it is missing), and WASM when the WebGPU engine cannot load the
 * model or fails mid-run. Each engine passes the pause gate; `onEngine` is told of every engine.
 * `fault` (test hook) makes an engine that has a fallback fail as a lost device would.
 */
export function studioEngines(requested: BackendChoice, threads: number, gate: PauseGate, onEngine: (info: EngineInfo) => void, fault?: () => Error | null): EngineFactory {
  const gated = (c: CreatedEngine) => {
    onEngine(c.info);
    return new GatedEngine(c.engine, gate, c.engine.traits.fallback ? fault : undefined);
  };
  return {
    create: async () => gated(await createEngine(requested, threads)),
    fallback: async (failed, why) => gated(await fallbackToWasm({ requested, crossOriginIsolated: self.crossOriginIsolated }, threads, `${failed.name} ${why}`)),
  };
}

/** Resolves immediately unless paused; then when resumed. */
export class PauseGate {
  private waiting: (() => void)[] = [];
  paused = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
  wait(): Promise<void> {
    return this.paused ? new Promise((r) => this.waiting.push(r)) : Promise.resolve();
  }
}

/** The engine the core sees: every session creation and batch first passes the pause gate. */
export class GatedEngine implements Engine {
  /** Sessions made before (the probe) do not count. */
  private readonly base: number;
  /** `fault` (test hook): when it returns an error, every later call fails with it. */
  constructor(
    readonly inner: OrtEngine,
    private readonly gate: PauseGate,
    private readonly fault?: () => Error | null,
  ) {
    this.base = inner.sessionsCreated;
  }
  get backend() {
    return this.inner.backend;
  }
  get traits() {
    return this.inner.traits;
  }
  get label() {
    return this.inner.label;
  }
  get name() {
    return this.inner.name;
  }
  get sessionsCreated(): number {
    return this.inner.sessionsCreated - this.base;
  }
  // Parameters<…> so that an argument the Engine interface gains can never be dropped here.
  async createSession(...args: Parameters<Engine['createSession']>): Promise<SessionInfo> {
    await this.gate.wait();
    this.check();
    return this.inner.createSession(...args);
  }
  async run(...args: Parameters<Engine['run']>): Promise<Record<string, TensorData>> {
    await this.gate.wait();
    this.check();
    return this.inner.run(...args);
  }
  private check(): void {
    const e = this.fault?.();
    if (e) throw e;
  }
  release(session: SessionInfo): Promise<void> {
    return this.inner.release(session);
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}
