// The ONNX checker rules we can verify without the schema registry: names, single assignment,
// every input defined before use (topological order, subgraphs seeing their outer scope), graph
// outputs produced, initializer sizes, and QuantizeLinear/DequantizeLinear scale / zero-point
// shapes and types consistent with `axis`.
import { QuantizeError } from '../types';
import { attrInt } from './attributes';
import { DataType, onnx, opsetVersion, toNum, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto';

export interface VerifyResult {
  /** Rule violations: a model with any is not valid ONNX (or not one onnxruntime should load). */
  errors: string[];
  /** Legal but suspicious (e.g. nodes whose outputs nobody reads). */
  warnings: string[];
}

const BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.BFLOAT16]: 2,
};

interface TensorMeta {
  type?: number;
  dims?: number[]; // -1 for unknown dims; undefined for unknown rank
}

/** Checks `model`; never throws for a malformed model, it reports. */
export function verifyModel(model: ModelProto): VerifyResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const g = model.graph;
  if (!g) return { errors: ['the model has no graph'], warnings };
  const opset = opsetVersion(model);
  if (!(model.opsetImport ?? []).some((o) => !o.domain || o.domain === 'ai.onnx')) errors.push('no opset_import for the default domain');
  if (toNum(model.irVersion) < 3) warnings.push(`ir_version ${toNum(model.irVersion)} is older than 3`);
  const meta = new Map<string, TensorMeta>();
  for (const v of [...(g.input ?? []), ...(g.valueInfo ?? []), ...(g.output ?? [])]) {
    const tt = v.type?.tensorType;
    if (v.name && tt)
      meta.set(v.name, {
        type: tt.elemType ?? undefined,
        dims: tt.shape ? (tt.shape.dim ?? []).map((d) => (d.dimValue != null && toNum(d.dimValue) > 0 ? toNum(d.dimValue) : -1)) : undefined,
      });
  }
  for (const t of g.initializer ?? []) meta.set(t.name ?? '', { type: t.dataType ?? undefined, dims: (t.dims ?? []).map(toNum) });
  for (const i of g.input ?? []) {
    if (!i.type) errors.push(`graph input '${i.name}' has no type`);
    else if (i.type.tensorType && !i.type.tensorType.elemType) errors.push(`graph input '${i.name}' has no element type`);
  }
  const ctx: Ctx = { errors, warnings, opset, meta, used: new Set() };
  checkGraph(g, new Set(), ctx, 'graph');
  // Nodes none of whose outputs anybody reads (legal, but our rewrites should never leave any).
  for (const o of g.output ?? []) ctx.used.add(o.name ?? '');
  for (const n of g.node ?? []) {
    const outs = (n.output ?? []).filter(Boolean);
    if (outs.length && !outs.some((o) => ctx.used.has(o))) warnings.push(`node '${n.name}' (${n.opType}): no output is used`);
  }
  return { errors, warnings };
}

/** Throws a QuantizeError listing the violations when `model` fails `verifyModel`. */
export function assertValidModel(model: ModelProto, what = 'model'): void {
  const { errors } = verifyModel(model);
  if (errors.length) {
    const more = errors.length > 5 ? ` (and ${errors.length - 5} more)` : '';
    throw new QuantizeError(`${what} is not a valid ONNX model: ${errors.slice(0, 5).join('; ')}${more}`);
  }
}

interface Ctx {
  errors: string[];
  warnings: string[];
  opset: number;
  meta: Map<string, TensorMeta>;
  used: Set<string>;
}

function checkGraph(g: GraphProto, outer: Set<string>, ctx: Ctx, where: string): void {
  const { errors } = ctx;
  const defined = new Set<string>(outer);
  const local = new Set<string>();
  const define = (name: string, what: string) => {
    if (local.has(name)) errors.push(`${where}: '${name}' is defined twice (${what})`);
    local.add(name);
    defined.add(name);
  };
  const inits = new Set<string>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (!name) errors.push(`${where}: an initializer has no name`);
    if (inits.has(name)) errors.push(`${where}: initializer '${name}' appears twice`);
    inits.add(name);
    const bad = tensorSizeError(t);
    if (bad) errors.push(`${where}: initializer '${name}': ${bad}`);
  }
  const inputNames = new Set<string>();
  for (const i of g.input ?? []) {
    const name = i.name ?? '';
    if (inputNames.has(name)) errors.push(`${where}: graph input '${name}' appears twice`);
    inputNames.add(name);
    define(name, 'graph input');
  }
  for (const name of inits) if (!inputNames.has(name)) define(name, 'initializer');
  const nodeNames = new Set<string>();
  for (const n of g.node ?? []) {
    const label = `${where}: node '${n.name ?? ''}' (${n.opType})`;
    if (n.name) {
      if (nodeNames.has(n.name)) errors.push(`${where}: node name '${n.name}' is used twice`);
      nodeNames.add(n.name);
    }
    (n.input ?? []).forEach((inp, k) => {
      if (!inp) return;
      ctx.used.add(inp);
      if (!defined.has(inp)) errors.push(`${label}: input ${k} '${inp}' is not a graph input, an initializer or the output of an earlier node`);
    });
    for (const a of n.attribute ?? []) {
      const subs = [...(a.g ? [a.g] : []), ...(a.graphs ?? [])];
      for (const sg of subs) {
        checkGraph(sg, defined, ctx, `${label} attribute '${a.name}'`);
        for (const name of implicitInputs(sg)) ctx.used.add(name);
      }
    }
    if (!n.domain || n.domain === 'ai.onnx') checkQdq(n, label, ctx);
    for (const o of n.output ?? []) if (o) define(o, `output of node '${n.name}'`);
  }
  for (const o of g.output ?? []) {
    if (!defined.has(o.name ?? '')) errors.push(`${where}: graph output '${o.name}' is produced by no node (dangling)`);
  }
}

/** Names a subgraph reads from enclosing scopes. */
function implicitInputs(g: GraphProto): Set<string> {
  const own = new Set<string>([...(g.input ?? []).map((i) => i.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? '')]);
  const out = new Set<string>();
  for (const n of g.node ?? []) {
    for (const i of n.input ?? []) if (i && !own.has(i)) out.add(i);
    for (const a of n.attribute ?? []) for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) for (const i of implicitInputs(sg)) if (!own.has(i)) out.add(i);
    for (const o of n.output ?? []) own.add(o);
  }
  return out;
}

function tensorSizeError(t: TensorProto): string | undefined {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return undefined;
  const n = (t.dims ?? []).map(toNum).reduce((a, b) => a * b, 1);
  const width = BYTES[t.dataType ?? 0];
  if (t.rawData && t.rawData.byteLength > 0) {
    if (width && t.rawData.byteLength !== n * width) return `${t.rawData.byteLength} bytes of raw data for ${n} elements of ${width} bytes`;
    return undefined;
  }
  const count = [t.floatData, t.int32Data, t.int64Data, t.doubleData, t.uint64Data, t.stringData].reduce((m, a) => Math.max(m, a?.length ?? 0), 0);
  if (width && count !== n) return `${count} values for ${n} elements`;
  return undefined;
}

const QDQ_ZP_TYPES: Record<string, number[]> = {
  QuantizeLinear: [DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16],
  DequantizeLinear: [DataType.INT8, DataType.UINT8, DataType.INT32, DataType.INT16, DataType.UINT16],
};

function checkQdq(n: NodeProto, label: string, ctx: Ctx): void {
  const op = n.opType ?? '';
  if (op !== 'QuantizeLinear' && op !== 'DequantizeLinear') return;
  const { errors, opset, meta } = ctx;
  if (opset < 10) errors.push(`${label}: needs opset ≥ 10 (the model imports opset ${opset})`);
  const [x, scale, zp] = n.input ?? [];
  const sm = meta.get(scale ?? '');
  const zm = zp ? meta.get(zp) : undefined;
  const xm = meta.get(x ?? '');
  if (sm?.type !== undefined && sm.type !== DataType.FLOAT && !(opset >= 19 && (sm.type === DataType.FLOAT16 || sm.type === DataType.BFLOAT16))) {
    errors.push(`${label}: scale '${scale}' has element type ${sm.type}, expected float`);
  }
  if (zm?.type !== undefined && !QDQ_ZP_TYPES[op].includes(zm.type)) errors.push(`${label}: zero point '${zp}' has element type ${zm.type}`);
  if (op === 'DequantizeLinear' && zm?.type !== undefined && xm?.type !== undefined && zm.type !== xm.type) {
    errors.push(`${label}: input '${x}' (type ${xm.type}) and zero point '${zp}' (type ${zm.type}) differ in type`);
  }
  const sDims = sm?.dims;
  if (sDims && zm?.dims && (sDims.length !== zm.dims.length || sDims.some((d, i) => d !== zm.dims![i]))) {
    errors.push(`${label}: scale '${scale}' [${sDims}] and zero point '${zp}' [${zm.dims}] differ in shape`);
  }
  if (!sDims) return;
  const numel = sDims.reduce((a, b) => a * b, 1);
  if (sDims.length === 0 || (sDims.length === 1 && sDims[0] === 1)) return; // per tensor
  if (sDims.length > 1) {
    errors.push(`${label}: scale '${scale}' has rank ${sDims.length}; per-tensor needs a scalar, per-axis a 1-D tensor`);
    return;
  }
  if (opset < 13) {
    errors.push(`${label}: a 1-D scale of ${numel} values (per-axis) needs opset ≥ 13 (the model imports opset ${opset})`);
    return;
  }
  const xDims = xm?.dims;
  if (!xDims) return;
  let axis = attrInt(n, 'axis', 1);
  if (axis < 0) axis += xDims.length;
  if (axis < 0 || axis >= xDims.length) {
    errors.push(`${label}: axis ${attrInt(n, 'axis', 1)} is out of range for input '${x}' of rank ${xDims.length}`);
    return;
  }
  if (xDims[axis] > 0 && xDims[axis] !== sDims[0]) {
    errors.push(`${label}: scale '${scale}' has ${sDims[0]} values but input '${x}' has ${xDims[axis]} along axis ${axis}`);
  }
}
