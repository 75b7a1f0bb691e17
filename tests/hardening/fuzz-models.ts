// Inputs for fuzzing the model reader: byte edits and truncations of the fixture models, and
// field-level edits of their decoded structure. The reader is what the CLI runs on a model file
// before any engine sees it: decodeModel, verifyModel, normalizeModel, modelInputShape and
// readTensor on the initializers.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelInputShape } from '../../src/core/run/input-checks';
import { normalizeModel } from '../../src/core/onnx/normalize';
import { decodeModel, encodeModel, onnx, type ModelProto, type NodeProto, type TensorProto } from '../../src/core/onnx/proto';
import { readTensor } from '../../src/core/onnx/tensor';
import { verifyModel } from '../../src/core/onnx/verify';

const MODELS = join(import.meta.dirname, '../fixtures/models');
export const MODEL_FILES = ['fmnist-cnn', 'fmnist-resnet', 'fmnist-mobilenet', 'ch_ppocr_mobile_v2.0_cls_infer'].map((f) => join(MODELS, `${f}.onnx`));

/** What the CLI does with a model file's bytes before the engine: any error but a QuantizeError is a bug. */
export function readModelOnce(bytes: Uint8Array): void {
  const m = decodeModel(bytes, 'fuzz.onnx');
  const v = verifyModel(m); // documented never to throw
  if (!Array.isArray(v.errors)) throw new Error('verifyModel returned no error list');
  const { model } = normalizeModel(m, 'fuzz.onnx');
  modelInputShape(model, undefined, 'fuzz.onnx');
  for (const t of (model.graph?.initializer ?? []).slice(0, 64)) readTensor(t);
}

const WIDTH: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** The model with every large initializer shrunk to dims ≤ 2 (same rank, same type): the
 *  structure stays, so byte edits land in it rather than in megabytes of weights. */
export function skeleton(bytes: Uint8Array): Uint8Array {
  const m = decodeModel(bytes);
  const shrink = (t: TensorProto) => {
    const raw = t.rawData?.byteLength ?? 0;
    const typed = (t.floatData?.length ?? 0) + (t.int64Data?.length ?? 0) + (t.int32Data?.length ?? 0);
    if (raw <= 256 && typed <= 64) return;
    t.dims = (t.dims ?? []).map((d) => Math.min(Number(d), 2));
    const n = t.dims.reduce((a: number, b) => a * Number(b), 1);
    t.rawData = new Uint8Array(n * (WIDTH[t.dataType ?? 1] ?? 4)).map((_, i) => (i * 37) & 0x3f);
    t.floatData = [];
    t.int64Data = [];
    t.int32Data = [];
  };
  for (const t of m.graph?.initializer ?? []) shrink(t);
  for (const n of m.graph?.node ?? []) for (const a of n.attribute ?? []) if (a.t) shrink(a.t);
  return encodeModel(m);
}

// ---------------------------------------------------------------------------------------------
// Byte edits

export interface ByteEdit {
  pos: number;
  kind: 'set' | 'flip' | 'insert' | 'delete' | 'zero' | 'dup';
  byte: number;
  len: number;
}

export const byteEdits = fc.array(
  fc.record({
    pos: fc.nat(),
    kind: fc.constantFrom<ByteEdit['kind']>('set', 'flip', 'insert', 'delete', 'zero', 'dup'),
    byte: fc.integer({ min: 0, max: 255 }),
    len: fc.integer({ min: 1, max: 24 }),
  }),
  { minLength: 1, maxLength: 8 },
);

export function applyByteEdits(src: Uint8Array, edits: ByteEdit[]): Uint8Array {
  let b = new Uint8Array(src); // a copy (src may be a Buffer, whose slice() is a view)
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) out.set(p, (o += p.length) - p.length);
    return out;
  };
  for (const e of edits) {
    if (b.length === 0) break;
    const p = e.pos % b.length;
    if (e.kind === 'set') b[p] = e.byte;
    else if (e.kind === 'flip') b[p] ^= 1 << (e.byte & 7);
    else if (e.kind === 'insert') b = cat(b.subarray(0, p), new Uint8Array(e.len).fill(e.byte), b.subarray(p));
    else if (e.kind === 'delete') b = cat(b.subarray(0, p), b.subarray(p + e.len));
    else if (e.kind === 'zero') b.fill(0, p, p + e.len);
    else b = cat(b.subarray(0, p + e.len), b.subarray(p));
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Structure edits (on the decoded skeleton; re-encoded before reading)

const OPS = [
  'Conv',
  'Gemm',
  'MatMul',
  'BatchNormalization',
  'Constant',
  'Relu',
  'Add',
  'Concat',
  'Reshape',
  'Clip',
  'MaxPool',
  'AveragePool',
  'ConvTranspose',
  'QuantizeLinear',
  'DequantizeLinear',
  'If',
  'Loop',
  'Flatten',
  'Weird',
  '',
];
const ATTRS = [
  'kernel_shape',
  'strides',
  'pads',
  'dilations',
  'group',
  'alpha',
  'beta',
  'transA',
  'transB',
  'epsilon',
  'training_mode',
  'auto_pad',
  'value',
  'value_float',
  'value_floats',
  'value_int',
  'value_ints',
  'axis',
  'then_branch',
];
const BIG = [-1, 0, 1, 2, 3, 7, 255, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1, -(2 ** 31)];
const NUMS = fc.oneof(fc.constantFrom(...BIG), fc.integer({ min: -5, max: 40 }));
const NAMES = fc.oneof(fc.constantFrom('', 'input', 'logits', 'x', '__proto__', 'constructor'), fc.string({ maxLength: 6 }));

export type StructEdit =
  | { at: 'node'; i: number; what: 'op'; op: string }
  | { at: 'node'; i: number; what: 'input' | 'output'; k: number; name: string | number }
  | { at: 'node'; i: number; what: 'attr'; name: string; type: number; ints: number[]; f: number; sub: boolean }
  | { at: 'node'; i: number; what: 'delete' | 'dup' | 'domain' | 'clearAttrs' }
  | { at: 'init'; i: number; what: 'dims' | 'typedDims'; dims: number[] }
  | { at: 'init'; i: number; what: 'type' | 'raw' | 'floats' | 'external' | 'name'; n: number; name: string }
  | { at: 'graph'; what: 'inputShape' | 'outputShape'; dims: (number | string)[] }
  | { at: 'graph'; what: 'inputType' | 'opset' | 'noInputs' | 'noOutputs' | 'noGraph' | 'swapNodes'; n: number };

export const structEdit: fc.Arbitrary<StructEdit> = fc.oneof(
  fc.record({ at: fc.constant('node' as const), i: fc.nat(), what: fc.constant('op' as const), op: fc.constantFrom(...OPS) }),
  fc.record({ at: fc.constant('node' as const), i: fc.nat(), what: fc.constantFrom('input' as const, 'output' as const), k: fc.nat({ max: 4 }), name: fc.oneof(NAMES, fc.nat()) }),
  fc.record({
    at: fc.constant('node' as const),
    i: fc.nat(),
    what: fc.constant('attr' as const),
    name: fc.constantFrom(...ATTRS),
    type: fc.integer({ min: 0, max: 14 }),
    ints: fc.array(NUMS, { maxLength: 8 }),
    f: fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -0)),
    sub: fc.boolean(),
  }),
  fc.record({ at: fc.constant('node' as const), i: fc.nat(), what: fc.constantFrom('delete' as const, 'dup' as const, 'domain' as const, 'clearAttrs' as const) }),
  fc.record({ at: fc.constant('init' as const), i: fc.nat(), what: fc.constantFrom('dims' as const, 'typedDims' as const), dims: fc.array(NUMS, { maxLength: 6 }) }),
  fc.record({
    at: fc.constant('init' as const),
    i: fc.nat(),
    what: fc.constantFrom('type' as const, 'raw' as const, 'floats' as const, 'external' as const, 'name' as const),
    n: fc.integer({ min: 0, max: 600 }),
    name: NAMES,
  }),
  fc.record({
    at: fc.constant('graph' as const),
    what: fc.constantFrom('inputShape' as const, 'outputShape' as const),
    dims: fc.array(fc.oneof(NUMS, fc.constantFrom('N', '')), { maxLength: 6 }),
  }),
  fc.record({
    at: fc.constant('graph' as const),
    what: fc.constantFrom('inputType' as const, 'opset' as const, 'noInputs' as const, 'noOutputs' as const, 'noGraph' as const, 'swapNodes' as const),
    n: fc.integer({ min: -3, max: 40 }),
  }),
);

const pick = <T>(xs: T[] | null | undefined, i: number): T | undefined => (xs && xs.length ? xs[i % xs.length] : undefined);

function tensorNames(m: ModelProto): string[] {
  const g = m.graph!;
  return [...(g.input ?? []).map((v) => v.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? ''), ...(g.node ?? []).flatMap((n) => n.output ?? [])];
}

function editNode(m: ModelProto, n: NodeProto, e: Extract<StructEdit, { at: 'node' }>): void {
  const g = m.graph!;
  if (e.what === 'op') n.opType = e.op;
  else if (e.what === 'input' || e.what === 'output') {
    const names = tensorNames(m);
    const name = typeof e.name === 'number' ? (pick(names, e.name) ?? '') : e.name;
    const list = [...((e.what === 'input' ? n.input : n.output) ?? [])];
    list[Math.min(e.k, list.length)] = name;
    if (e.what === 'input') n.input = list;
    else n.output = list;
  } else if (e.what === 'attr') {
    const a = onnx.AttributeProto.create({ name: e.name, type: e.type, ints: e.ints, i: e.ints[0] ?? 0, f: e.f, floats: e.ints.map(Number) });
    if (e.type === 4 || e.name === 'value') a.t = onnx.TensorProto.create({ dims: e.ints.slice(0, 3), dataType: 1, rawData: new Uint8Array(e.ints.length * 4) });
    if (e.type === 3 || e.name === 'auto_pad') a.s = new TextEncoder().encode(['SAME_UPPER', 'VALID', 'NOTSET', 'X'][e.ints.length % 4]);
    if (e.sub)
      a.g = onnx.GraphProto.create({ name: 'sub', node: [{ opType: 'Identity', input: [pick(tensorNames(m), e.ints.length) ?? 'x'], output: ['y'] }], output: [{ name: 'y' }] });
    n.attribute = [...(n.attribute ?? []).filter((x) => x.name !== e.name), a];
  } else if (e.what === 'delete') g.node = (g.node ?? []).filter((x) => x !== n);
  else if (e.what === 'dup') g.node = [...(g.node ?? []), onnx.NodeProto.decode(onnx.NodeProto.encode(n).finish())];
  else if (e.what === 'domain') n.domain = 'com.example';
  else n.attribute = [];
}

export function applyStructEdits(bytes: Uint8Array, edits: StructEdit[]): Uint8Array {
  const m = decodeModel(bytes);
  const g = m.graph!;
  for (const e of edits) {
    if (!m.graph) break;
    if (e.at === 'node') {
      const n = pick(g.node, e.i);
      if (n) editNode(m, n, e);
    } else if (e.at === 'init') {
      const t = pick(g.initializer, e.i);
      if (!t) continue;
      if (e.what === 'dims') t.dims = e.dims;
      else if (e.what === 'typedDims') [t.dims, t.rawData, t.floatData, t.int64Data] = [e.dims, new Uint8Array(0), [1, 2, 3], [4]];
      else if (e.what === 'type') t.dataType = e.n % 26;
      else if (e.what === 'raw') t.rawData = new Uint8Array(e.n);
      else if (e.what === 'floats') [t.rawData, t.floatData] = [new Uint8Array(0), new Array(e.n).fill(0.5)];
      else if (e.what === 'external') [t.dataLocation, t.externalData] = [1, [{ key: 'location', value: e.name }]];
      else if (e.what === 'name') t.name = e.name;
    } else if (e.what === 'inputShape' || e.what === 'outputShape') {
      const v = e.what === 'inputShape' ? pick(g.input, 0) : pick(g.output, 0);
      const tt = v?.type?.tensorType;
      if (tt) tt.shape = { dim: e.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) };
    } else if (e.what === 'inputType') {
      const tt = pick(g.input, 0)?.type?.tensorType;
      if (tt) tt.elemType = e.n;
    } else if (e.what === 'opset') m.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: e.n })];
    else if (e.what === 'noInputs') g.input = [];
    else if (e.what === 'noOutputs') g.output = [];
    else if (e.what === 'noGraph') m.graph = null;
    else if (e.what === 'swapNodes' && g.node && g.node.length > 1) {
      const i = Math.abs(e.n) % g.node.length;
      [g.node[0], g.node[i]] = [g.node[i], g.node[0]];
    }
  }
  return encodeModel(m);
}

export function loadModels(): { full: Uint8Array[]; skeletons: Uint8Array[] } {
  const full = MODEL_FILES.map((f) => new Uint8Array(readFileSync(f)));
  return { full, skeletons: full.map((b) => new Uint8Array(skeleton(b))) };
}
