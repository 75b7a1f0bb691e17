// Test helpers shared by the switchable / QDQ-export unit tests and the ONNX backend conformance
// test: run a model in onnxruntime-node or onnxruntime-web (WASM, Node build), build small graphs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { GraphIndex } from '../../src/core/onnx/graph';
import { AttrType, encodeModel, onnx, type AttributeProto, type ModelProto, type NodeProto } from '../../src/core/onnx/proto';
import { makeTensor, readTensor } from '../../src/core/onnx/tensor';
import { elementTypes } from '../../src/core/onnx/elem-types';
import { defaultDqParams } from '../../src/core/config/defaults';
import { placeQuantizers } from '../../src/core/quant/placement';
import type { QuantizerParams, QuantizerSpec, TensorData } from '../../src/core/types';

export type Backend = 'native' | 'wasm';

interface OrtLike {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => Tensor;
}

const require = createRequire(import.meta.url);
let wasmInit = false;

export async function ortModule(backend: Backend): Promise<OrtLike> {
  if (backend === 'native') return (await import('onnxruntime-node')) as unknown as OrtLike;
  const ort = (await import('onnxruntime-web')) as unknown as OrtLike & { env: { wasm: { numThreads?: number; proxy?: boolean; wasmBinary?: Uint8Array } } };
  if (!wasmInit) {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = readFileSync(join(dirname(require.resolve('onnxruntime-web')), 'ort-wasm-simd-threaded.wasm'));
    wasmInit = true;
  }
  return ort;
}

/** Session options under which a switchable graph with everything off reproduces FP32 bit for bit
 *  (see EXACT_SESSION_OPTIONS in src/core/quant/switchable.ts). */
export const EXACT: InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'extended',
  logSeverityLevel: 3,
  extra: { session: { disable_prepacking: '1' } },
} as InferenceSession.SessionOptions;

export const QUIET: InferenceSession.SessionOptions = { logSeverityLevel: 3 };

export class Runner {
  private constructor(
    private readonly ort: OrtLike,
    readonly backend: Backend,
  ) {}
  static async create(backend: Backend): Promise<Runner> {
    return new Runner(await ortModule(backend), backend);
  }
  async session(model: ModelProto | Uint8Array, options: InferenceSession.SessionOptions = EXACT): Promise<InferenceSession> {
    const bytes = model instanceof Uint8Array ? model : encodeModel(model);
    return this.ort.InferenceSession.create(bytes, { executionProviders: [this.backend === 'native' ? 'cpu' : 'wasm'], ...options });
  }
  async run(session: InferenceSession, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> {
    const f: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) f[k] = new this.ort.Tensor(t.type, t.data, t.dims);
    const r = await session.run(f);
    const out: Record<string, TensorData> = {};
    for (const [k, t] of Object.entries(r)) out[k] = { type: t.type as TensorData['type'], dims: [...t.dims], data: t.data as TensorData['data'] };
    return out;
  }
  /** One-shot: create, run, release. */
  async runModel(model: ModelProto | Uint8Array, feeds: Record<string, TensorData>, options?: InferenceSession.SessionOptions): Promise<Record<string, TensorData>> {
    const s = await this.session(model, options);
    try {
      return await this.run(s, feeds);
    } finally {
      await s.release();
    }
  }
}

export const f32 = (dims: number[], data: ArrayLike<number>): TensorData => ({ type: 'float32', dims, data: Float32Array.from(data) });

/** Number of elements that differ bitwise (NaN equals NaN), and the largest absolute difference. */
export function diff(a: TensorData, b: TensorData): { neq: number; maxAbs: number } {
  const x = a.data as ArrayLike<number>;
  const y = b.data as ArrayLike<number>;
  if (x.length !== y.length) return { neq: Math.max(x.length, y.length), maxAbs: Infinity };
  let neq = 0;
  let maxAbs = 0;
  for (let i = 0; i < x.length; i++) {
    const u = Number(x[i]);
    const v = Number(y[i]);
    if (Object.is(u, v) || (Number.isNaN(u) && Number.isNaN(v)) || u === v) continue;
    neq++;
    maxAbs = Math.max(maxAbs, Math.abs(u - v));
  }
  return { neq, maxAbs };
}

export function lcg(n: number, seed = 1, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small hand-built graphs

export interface N {
  op: string;
  name: string;
  in: string[];
  out: string[];
  attrs?: Record<string, number | number[] | string | Float32Array>;
}

export function attr(name: string, v: number | number[] | string | Float32Array): AttributeProto {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (v instanceof Float32Array) return { name, type: AttrType.FLOATS, floats: Array.from(v) };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if (Number.isInteger(v) && !Object.is(v, -0)) return { name, type: AttrType.INT, i: v };
  return { name, type: AttrType.FLOAT, f: v };
}

export const floatAttr = (name: string, f: number): AttributeProto => ({ name, type: AttrType.FLOAT, f });

export function graph(opts: {
  inputs: Record<string, number[] | [number[], number]>;
  outputs: Record<string, number[] | undefined>;
  nodes: (N | { proto: NodeProto })[];
  inits?: Record<string, { dims: number[]; data: ArrayLike<number> | BigInt64Array; type?: 'float32' | 'int64' | 'int8' | 'uint8' }>;
  opset?: number;
  ir?: number;
}): ModelProto {
  const vi = (name: string, spec: number[] | [number[], number] | undefined, elem = 1) => {
    const [dims, t] = spec && Array.isArray(spec[0]) ? (spec as [number[], number]) : [spec as number[] | undefined, elem];
    return onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: t, ...(dims ? { shape: { dim: dims.map((d) => (d < 0 ? { dimParam: `d${name}` } : { dimValue: d })) } } : {}) } },
    });
  };
  return onnx.ModelProto.create({
    irVersion: opts.ir ?? 7,
    opsetImport: [{ domain: '', version: opts.opset ?? 13 }],
    graph: {
      name: 'g',
      node: opts.nodes.map((n) =>
        'proto' in n
          ? n.proto
          : {
              opType: n.op,
              name: n.name,
              input: n.in,
              output: n.out,
              attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)),
            },
      ),
      input: Object.entries(opts.inputs).map(([n, d]) => vi(n, d)),
      output: Object.entries(opts.outputs).map(([n, d]) => vi(n, d)),
      initializer: Object.entries(opts.inits ?? {}).map(([name, t]) => makeTensor(name, t.type ?? 'float32', t.dims, t.data as Float32Array)),
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Quantizer specs and grids for tests

/** Fallback placement until src/core/quant/placement.ts exists: one activation quantizer on every
 *  non-constant float input of Conv/MatMul/Gemm/Add/Mul (shared per tensor), weights of Conv /
 *  Gemm / MatMul per output channel. */
export function simplePlacement(model: ModelProto): QuantizerSpec[] {
  const idx = new GraphIndex(model);
  const types = elementTypes(idx);
  const specs: QuantizerSpec[] = [];
  const acts = new Map<string, QuantizerSpec>();
  const weights = new Map<string, QuantizerSpec>();
  for (const n of idx.nodes) {
    const op = n.opType ?? '';
    if (!['Conv', 'MatMul', 'Gemm', 'Add', 'Mul'].includes(op) || (n.domain && n.domain !== 'ai.onnx')) continue;
    (n.input ?? []).forEach((t, k) => {
      if (!t || types.get(t) !== 1) return;
      const init = idx.initializers.get(t);
      if (init) {
        if (k !== 1 || !['Conv', 'MatMul', 'Gemm'].includes(op)) return;
        const rank = (init.dims ?? []).length;
        const axis = op === 'Conv' ? 0 : op === 'Gemm' ? (n.attribute?.find((a) => a.name === 'transB')?.i ? 0 : 1) : rank - 1;
        if (rank < 2) return;
        let w = weights.get(t);
        if (!w) {
          w = { id: `w:${t}`, kind: 'weight', tensor: t, consumers: [], mode: 'symmetric', granularity: 'perchannel', axis, levels: 255 };
          weights.set(t, w);
          specs.push(w);
        }
        w.consumers.push({ node: n.name ?? '', input: k });
        return;
      }
      let s = acts.get(t);
      if (!s) {
        s = { id: `a:${t}`, kind: 'activation', tensor: t, consumers: [], mode: 'symmetric', granularity: 'pertensor', levels: 256 };
        acts.set(t, s);
        specs.push(s);
      }
      s.consumers.push({ node: n.name ?? '', input: k });
    });
  }
  return specs;
}

export function grid(scale: number[] | number, zeroPoint: number[] | number, dtype: 'int8' | 'uint8', narrow = false): QuantizerParams {
  const s = Float32Array.from(Array.isArray(scale) ? scale : [scale]);
  const z = Int32Array.from(Array.isArray(zeroPoint) ? zeroPoint : [zeroPoint]);
  const [qmin, qmax] = dtype === 'int8' ? [narrow ? -127 : -128, 127] : [0, 255];
  const low = new Float32Array(s.length);
  const high = new Float32Array(s.length);
  s.forEach((v, c) => {
    low[c] = (qmin - z[z.length > 1 ? c : 0]) * v;
    high[c] = (qmax - z[z.length > 1 ? c : 0]) * v;
  });
  return { scale: s, zeroPoint: z, qmin, qmax, dtype, low, high };
}

/** Symmetric per-channel weight grid from the data's abs-max (±127, int8). */
export function weightGrid(data: Float32Array, dims: number[], axis: number): QuantizerParams {
  const C = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const m = new Float32Array(C);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % C;
    m[c] = Math.max(m[c], Math.abs(data[i]));
  }
  return grid(
    Array.from(m, (v) => (v > 0 ? v / 127 : 1)),
    new Array(C).fill(0),
    'int8',
    true,
  );
}

export const act = (tensor: string, consumers: [string, number][], extra: Partial<QuantizerSpec> = {}): QuantizerSpec => ({
  id: `a:${tensor}`,
  kind: 'activation',
  tensor,
  consumers: consumers.map(([node, input]) => ({ node, input })),
  mode: 'symmetric',
  granularity: 'pertensor',
  levels: 256,
  ...extra,
});
export const wq = (tensor: string, consumers: [string, number][], axis: number): QuantizerSpec => ({
  id: `w:${tensor}`,
  kind: 'weight',
  tensor,
  consumers: consumers.map(([node, input]) => ({ node, input })),
  mode: 'symmetric',
  granularity: 'perchannel',
  axis,
  levels: 255,
});

/** Conv → Relu → Add(skip) → depthwise Conv → Concat → GlobalAveragePool → Flatten → MatMul → Gemm. */
export function composite(): { model: ModelProto; specs: QuantizerSpec[]; weights: Record<string, { data: Float32Array; dims: number[]; axis: number }> } {
  const w: Record<string, { data: Float32Array; dims: number[]; axis: number }> = {
    W1: { dims: [4, 4, 3, 3], data: lcg(144, 3, 0.4), axis: 0 },
    Wdw: { dims: [4, 1, 3, 3], data: lcg(36, 5, 0.6), axis: 0 },
    Wm: { dims: [8, 5], data: lcg(40, 7, 0.5), axis: 1 },
    Wg: { dims: [3, 5], data: lcg(15, 9, 0.5), axis: 0 },
  };
  const conv = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] };
  const model = graph({
    inputs: { X: [2, 4, 6, 6] },
    outputs: { Y: [2, 3] },
    inits: {
      ...Object.fromEntries(Object.entries(w).map(([k, v]) => [k, { dims: v.dims, data: v.data }])),
      B1: { dims: [4], data: lcg(4, 11, 0.1) },
      Bdw: { dims: [4], data: lcg(4, 13, 0.1) },
      Bg: { dims: [3], data: lcg(3, 17, 0.1) },
    },
    nodes: [
      { op: 'Conv', name: 'c1', in: ['X', 'W1', 'B1'], out: ['C1'], attrs: { ...conv, group: 1 } },
      { op: 'Relu', name: 'r1', in: ['C1'], out: ['A'] },
      { op: 'Add', name: 'add1', in: ['A', 'X'], out: ['S'] },
      { op: 'Conv', name: 'dw', in: ['S', 'Wdw', 'Bdw'], out: ['D'], attrs: { ...conv, group: 4 } },
      { op: 'Concat', name: 'cat', in: ['D', 'S'], out: ['Cc'], attrs: { axis: 1 } },
      { op: 'GlobalAveragePool', name: 'gap', in: ['Cc'], out: ['G'] },
      { op: 'Flatten', name: 'fl', in: ['G'], out: ['F'], attrs: { axis: 1 } },
      { op: 'MatMul', name: 'mm', in: ['F', 'Wm'], out: ['M'] },
      { op: 'Gemm', name: 'gm', in: ['M', 'Wg', 'Bg'], out: ['Y'], attrs: { transB: 1 } },
    ],
  });
  const specs = [
    act('X', [
      ['c1', 0],
      ['add1', 1],
    ]),
    act('A', [['add1', 0]]),
    act('S', [['dw', 0]], { granularity: 'perchannel', axis: 1 }),
    act('D', [['cat', 0]], { mode: 'asymmetric' }),
    act('F', [['mm', 0]]),
    act('M', [['gm', 0]]),
    wq('W1', [['c1', 1]], 0),
    wq('Wdw', [['dw', 1]], 0),
    wq('Wm', [['mm', 1]], 1),
    wq('Wg', [['gm', 1]], 0),
  ];
  return { model, specs, weights: w };
}

/** Grids for the composite model; X's scale 3·2⁻⁷ makes half-step inputs exact ties. */
export const S_X = 3 / 128;
export function compositeParams(weights: ReturnType<typeof composite>['weights']): Record<string, QuantizerParams> {
  return {
    'a:X': grid(S_X, 0, 'int8'),
    'a:A': grid(2 / 255, 0, 'uint8'),
    'a:S': grid([0.01, 0.02, 0.015, 0.03], [0, 3, -2, 1], 'int8'),
    'a:D': grid(0.02, 128, 'uint8'),
    'a:F': grid(0.01, 0, 'int8'),
    'a:M': grid(0.02, 0, 'int8'),
    ...Object.fromEntries(Object.entries(weights).map(([k, v]) => [`w:${k}`, weightGrid(v.data, v.dims, v.axis)])),
  };
}

/** X = m · S_X / 2 for integers m: every odd m is a tie of x / scale. */
export function tieInput(dims: number[], seed = 1): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const r = lcg(n, seed, 300);
  return Float32Array.from(r, (v) => (Math.round(v) * S_X) / 2);
}

/** The project's placement (POT CPU rules, default parameters). */
export function placement(model: ModelProto): QuantizerSpec[] {
  return placeQuantizers(model, defaultDqParams('CPU'));
}

/**
 * Grids for `specs` from one FP32 pass over `feeds`: activations with a non-negative range get
 * uint8 [0, 255] (zero point 0), others int8 symmetric (scale = absmax / 127, full [-128, 127]);
 * weights ±127 per channel (or per tensor) from their abs-max.
 */
export async function calibrate(r: Runner, model: ModelProto, specs: QuantizerSpec[], feeds: Record<string, TensorData>): Promise<Record<string, QuantizerParams>> {
  const m = onnx.ModelProto.decode(encodeModel(model));
  const acts = specs.filter((s) => s.kind === 'activation');
  const outs = new Set((m.graph!.output ?? []).map((o) => o.name));
  for (const s of acts) if (!outs.has(s.tensor)) m.graph!.output!.push(onnx.ValueInfoProto.create({ name: s.tensor, type: { tensorType: { elemType: 1 } } }));
  const res = await r.runModel(m, feeds, QUIET);
  const idx = new GraphIndex(model);
  const params: Record<string, QuantizerParams> = {};
  for (const s of specs) {
    if (s.kind === 'weight') {
      const t = readTensor(idx.initializers.get(s.tensor)!);
      const data = t.data as Float32Array;
      if (s.granularity === 'perchannel') params[s.id] = weightGrid(data, t.dims, s.axis ?? 0);
      else {
        const m1 = data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        params[s.id] = grid(m1 > 0 ? m1 / 127 : 1, 0, 'int8', true);
      }
      continue;
    }
    const x = res[s.tensor].data as Float32Array;
    const dims = res[s.tensor].dims;
    const C = s.granularity === 'perchannel' ? dims[s.axis ?? 1] : 1;
    const inner = s.granularity === 'perchannel' ? dims.slice((s.axis ?? 1) + 1).reduce((a, b) => a * b, 1) : 1;
    const lo = new Float64Array(C);
    const hi = new Float64Array(C);
    for (let i = 0; i < x.length; i++) {
      const c = C > 1 ? Math.floor(i / inner) % C : 0;
      lo[c] = Math.min(lo[c], x[i]);
      hi[c] = Math.max(hi[c], x[i]);
    }
    const unsigned = lo.every((v) => v >= 0);
    const scales = Array.from(hi, (h, c) => {
      const range = unsigned ? h / 255 : Math.max(h, -lo[c]) / 127;
      return range > 0 ? range : 1;
    });
    params[s.id] = grid(C > 1 ? scales : scales[0], C > 1 ? new Array(C).fill(0) : 0, unsigned ? 'uint8' : 'int8');
  }
  return params;
}
