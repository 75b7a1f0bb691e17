// Normalisation before quantizing, as OpenVINO's model conversion does before POT sees a model:
// unique node names, Constant nodes → initializers, omitted default attributes filled in,
// BatchNormalization folded into the preceding Conv / Gemm.
import { QuantizeError } from '../types';
import { attrFloat, attrInt, attrInts, attrString, findAttr, intAttr, floatAttr, intsAttr, setAttr } from './attributes';
import { GraphIndex } from './graph';
import { cloneModel, opsetVersion, type ModelProto, type NodeProto, type TensorProto } from './proto';
import { makeTensor, readTensor, toFloat32 } from './tensor';

export const MIN_OPSET = 7;
export const MAX_OPSET = 22;

export interface NormalizeReport {
  renamedNodes: number;
  constantsToInitializers: number;
  attributesFilled: number;
  batchNormsFolded: number;
}

export function checkSupported(model: ModelProto, file = 'model'): void {
  const v = opsetVersion(model);
  if (v < MIN_OPSET || v > MAX_OPSET) {
    throw new QuantizeError(`opset ${v} is not supported`, { file, field: 'opset_import', expected: `opset ${MIN_OPSET}–${MAX_OPSET}` });
  }
  for (const t of model.graph?.initializer ?? []) readTensorCheck(t, file);
  if (!(model.graph?.input ?? []).some((i) => !(model.graph?.initializer ?? []).some((t) => t.name === i.name))) {
    throw new QuantizeError('the model has no inputs', { file, field: 'graph.input', expected: 'at least one graph input' });
  }
}

function readTensorCheck(t: TensorProto, file: string): void {
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    throw new QuantizeError(`initializer '${t.name}' keeps its data in an external file, which we do not support`, {
      file,
      field: `initializer ${t.name}`,
      expected: 'weights stored inside the .onnx file (re-save without external data)',
    });
  }
}

/** Returns a normalised copy; the input model is not modified. */
export function normalizeModel(input: ModelProto, file = 'model'): { model: ModelProto; report: NormalizeReport } {
  checkSupported(input, file);
  const model = cloneModel(input);
  const report: NormalizeReport = { renamedNodes: 0, constantsToInitializers: 0, attributesFilled: 0, batchNormsFolded: 0 };
  const g = model.graph!;
  // 1. unique node names
  const used = new Set<string>();
  (g.node ?? []).forEach((n, i) => {
    let name = n.name || `${n.opType}_${i}`;
    if (used.has(name)) name = `${name}__${i}`;
    if (name !== n.name) report.renamedNodes++;
    n.name = name;
    used.add(name);
  });
  // 2. Constant nodes → initializers
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  const keep: NodeProto[] = [];
  for (const n of g.node ?? []) {
    const t = n.opType === 'Constant' && (!n.domain || n.domain === 'ai.onnx') && !outputs.has(n.output?.[0]) ? constantValue(n) : undefined;
    if (t) {
      t.name = n.output![0];
      g.initializer = [...(g.initializer ?? []), t];
      report.constantsToInitializers++;
    } else keep.push(n);
  }
  g.node = keep;
  // 3. default attributes
  let idx = new GraphIndex(model);
  const opset = opsetVersion(model);
  for (const n of g.node) report.attributesFilled += fillDefaults(n, idx, opset);
  // 4. fold BatchNormalization
  idx = new GraphIndex(model);
  report.batchNormsFolded = foldBatchNorms(model, idx);
  return { model, report };
}

function constantValue(n: NodeProto): TensorProto | undefined {
  const a = (n.attribute ?? [])[0];
  if (!a) return undefined;
  switch (a.name) {
    case 'value':
      return a.t ? { ...a.t } : undefined;
    case 'value_float':
      return makeTensor('', 'float32', [], [a.f ?? 0]);
    case 'value_floats':
      return makeTensor('', 'float32', [(a.floats ?? []).length], a.floats ?? []);
    // exact 64-bit values (via the Long's decimal string): INT64_MAX as a Slice end must survive
    case 'value_int':
      return makeTensor('', 'int64', [], new BigInt64Array([exactInt64(a.i)]));
    case 'value_ints':
      return makeTensor('', 'int64', [(a.ints ?? []).length], BigInt64Array.from((a.ints ?? []).map(exactInt64)));
    default:
      return undefined; // sparse/string constants stay as nodes
  }
}

function exactInt64(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'bigint') return v;
  return v == null ? 0n : BigInt(String(v));
}

function fillDefaults(n: NodeProto, idx: GraphIndex, opset: number): number {
  const op = n.opType ?? '';
  let filled = 0;
  const put = (name: string, mk: () => ReturnType<typeof intsAttr>) => {
    if (!findAttr(n, name)) {
      setAttr(n, mk());
      filled++;
    }
  };
  if (op === 'Conv' || op === 'ConvTranspose' || op === 'MaxPool' || op === 'AveragePool') {
    let kernel = attrInts(n, 'kernel_shape');
    if (!kernel && (op === 'Conv' || op === 'ConvTranspose')) {
      const w = idx.shapeOf(n.input?.[1] ?? '');
      if (w && w.length > 2 && w.every((d) => d > 0)) {
        kernel = w.slice(2);
        put('kernel_shape', () => intsAttr('kernel_shape', kernel!));
      }
    }
    if (!kernel) return filled; // unknown rank: leave as is
    const r = kernel.length;
    put('strides', () => intsAttr('strides', new Array(r).fill(1)));
    const autoPad = attrString(n, 'auto_pad');
    if (!autoPad || autoPad === 'NOTSET') put('pads', () => intsAttr('pads', new Array(2 * r).fill(0)));
    if (op === 'Conv' || op === 'ConvTranspose' || (op === 'MaxPool' && opset >= 10)) put('dilations', () => intsAttr('dilations', new Array(r).fill(1)));
    if (op === 'Conv' || op === 'ConvTranspose') put('group', () => intAttr('group', 1));
  } else if (op === 'Gemm') {
    put('alpha', () => floatAttr('alpha', 1));
    put('beta', () => floatAttr('beta', 1));
    put('transA', () => intAttr('transA', 0));
    put('transB', () => intAttr('transB', 0));
  }
  return filled;
}

function foldBatchNorms(model: ModelProto, idx: GraphIndex): number {
  const g = model.graph!;
  const remove = new Set<NodeProto>();
  const graphOutputs = new Set(idx.outputs);
  let folded = 0;
  for (const bn of idx.nodes) {
    if (bn.opType !== 'BatchNormalization' || (bn.output ?? []).filter(Boolean).length !== 1) continue;
    if (attrInt(bn, 'training_mode', 0) !== 0) continue;
    const x = bn.input?.[0] ?? '';
    const prod = idx.producerNode(x);
    if (!prod || (prod.opType !== 'Conv' && prod.opType !== 'Gemm')) continue;
    if (idx.usesOf(x).length !== 1 || graphOutputs.has(x)) continue;
    const params = (bn.input ?? []).slice(1, 5).map((n) => idx.initializers.get(n));
    const wInit = idx.initializers.get(prod.input?.[1] ?? '');
    if (params.length !== 4 || params.some((p) => !p) || !wInit) continue;
    const [scale, bias, mean, variance] = params.map((p) => toFloat32(readTensor(p!)));
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const C = scale.length;
    if (bias.length !== C || mean.length !== C || variance.length !== C) continue;
    const wT = readTensor(wInit);
    if (wT.type !== 'float32') continue;
    const W = new Float32Array(wT.data as Float32Array);
    const transB = prod.opType === 'Gemm' ? attrInt(prod, 'transB', 0) : 1;
    if (prod.opType === 'Gemm' && attrInt(prod, 'transA', 0) !== 0) continue;
    const outAxisIsRows = prod.opType === 'Conv' || transB === 1;
    const rows = wT.dims[0];
    const per = W.length / rows;
    const outCh = outAxisIsRows ? rows : per;
    if (outCh !== C) continue;
    const k = new Float32Array(C);
    for (let c = 0; c < C; c++) k[c] = scale[c] / Math.sqrt(variance[c] + eps);
    if (outAxisIsRows) for (let r = 0; r < rows; r++) for (let j = 0; j < per; j++) W[r * per + j] *= k[r];
    else for (let r = 0; r < rows; r++) for (let j = 0; j < per; j++) W[r * per + j] *= k[j];
    const bName = prod.input?.[2];
    const b0 = bName && idx.initializers.get(bName) ? toFloat32(readTensor(idx.initializers.get(bName)!)) : new Float32Array(C);
    if (b0.length !== C) continue;
    if (prod.opType === 'Gemm' && bName && attrFloat(prod, 'beta', 1) !== 1) continue;
    const B = new Float32Array(C);
    for (let c = 0; c < C; c++) B[c] = (b0[c] - mean[c]) * k[c] + bias[c];
    const newW = makeTensor(`${prod.input![1]}_bnfold`, 'float32', wT.dims, W);
    const newB = makeTensor(`${bName || prod.name + '_bias'}_bnfold`, 'float32', [C], B);
    g.initializer = [...(g.initializer ?? []), newW, newB];
    prod.input = [prod.input![0], newW.name!, newB.name!];
    prod.output = [bn.output![0]];
    remove.add(bn);
    folded++;
  }
  if (folded) {
    g.node = (g.node ?? []).filter((n) => !remove.has(n));
    pruneInitializers(model);
  }
  return folded;
}

/** Drop initializers no node (or subgraph) reads any more. */
export function pruneInitializers(model: ModelProto): void {
  const g = model.graph!;
  const used = new Set<string>();
  const visit = (nodes: NodeProto[]) => {
    for (const n of nodes) {
      (n.input ?? []).forEach((i) => used.add(i));
      for (const a of n.attribute ?? []) {
        if (a.g) visit(a.g.node ?? []);
        for (const sg of a.graphs ?? []) visit(sg.node ?? []);
      }
    }
  };
  visit(g.node ?? []);
  (g.output ?? []).forEach((o) => used.add(o.name ?? ''));
  const removed = new Set((g.initializer ?? []).filter((t) => !used.has(t.name ?? '')).map((t) => t.name ?? ''));
  g.initializer = (g.initializer ?? []).filter((t) => !removed.has(t.name ?? ''));
  // graph inputs that only declared a removed initializer go too
  g.input = (g.input ?? []).filter((i) => !removed.has(i.name ?? ''));
}
