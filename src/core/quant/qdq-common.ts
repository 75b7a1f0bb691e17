// Helpers shared by the switchable fake-quant graph and the QDQ export: fresh names, channel
// counts, element types, inserting quantizer chains right after a tensor's producer, rewiring
// consumers, grid validation.
import { attrInt } from '../onnx/attributes';
import type { GraphIndex } from '../onnx/graph';
import { DataType, onnx, type GraphProto, type NodeProto, type ValueInfoProto } from '../onnx/proto';
import { QuantizeError, type QuantizerParams, type QuantizerSpec } from '../types';

/** Every name used in a graph (nodes, tensors, initializers, value infos), subgraphs included. */
export class Names {
  private readonly used = new Set<string>();
  constructor(g: GraphProto) {
    const visit = (gr: GraphProto) => {
      for (const v of [...(gr.input ?? []), ...(gr.output ?? []), ...(gr.valueInfo ?? [])]) this.used.add(v.name ?? '');
      for (const t of gr.initializer ?? []) this.used.add(t.name ?? '');
      for (const n of gr.node ?? []) {
        this.used.add(n.name ?? '');
        for (const x of [...(n.input ?? []), ...(n.output ?? [])]) this.used.add(x);
        for (const a of n.attribute ?? []) for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) visit(sg);
      }
    };
    visit(g);
  }
  has(name: string): boolean {
    return this.used.has(name);
  }
  /** `base`, or `base_1`, `base_2`, … whichever is free; reserved on return. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
  /** Reserves `name`, throwing when the model already uses it. */
  claim(name: string): string {
    if (this.used.has(name)) throw new QuantizeError(`the model already uses the name '${name}', which the quantized graph needs`, { field: name });
    this.used.add(name);
    return name;
  }
}

export const node = (name: string, opType: string, input: string[], output: string[], attrs: Record<string, number> = {}): NodeProto =>
  onnx.NodeProto.create({
    name,
    opType,
    input,
    output,
    attribute: Object.entries(attrs).map(([k, v]) => onnx.AttributeProto.create({ name: k, type: onnx.AttributeProto.AttributeType.INT, i: v })),
  });

/** A tensor ValueInfo; `dims` undefined leaves the shape unknown. */
export const valueInfo = (name: string, elemType: number, dims?: number[]): ValueInfoProto =>
  onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } } });

/** Number of channels of a per-channel quantizer (along spec.axis). */
export function channelCount(idx: GraphIndex, spec: QuantizerSpec): number {
  if (spec.channels && spec.channels > 0) return spec.channels;
  const axis = spec.axis ?? 1;
  const shape = idx.shapeOf(spec.tensor);
  if (shape && shape.length > axis && shape[axis] > 0) return shape[axis];
  if (axis === 1) {
    for (const c of spec.consumers) {
      const n = idx.nodes[idx.nodeByName.get(c.node) ?? -1];
      if (n && c.input === 0 && n.opType === 'Conv') {
        const w = idx.shapeOf(n.input?.[1] ?? '');
        if (w && w.length > 1 && w[1] > 0) return w[1] * attrInt(n, 'group', 1);
      }
    }
  }
  throw new QuantizeError(
    `per-channel quantizer '${spec.id}': cannot tell how many channels tensor '${spec.tensor}' has along axis ${axis} (no shape in the model and no Conv consumer to read it from)`,
    { field: spec.tensor, expected: 'QuantizerSpec.channels or a declared shape' },
  );
}

/** Rank of the tensor a per-channel activation quantizer sits on. */
export function tensorRank(idx: GraphIndex, spec: QuantizerSpec): number {
  const shape = idx.shapeOf(spec.tensor);
  if (shape) return shape.length;
  for (const c of spec.consumers) {
    const n = idx.nodes[idx.nodeByName.get(c.node) ?? -1];
    if (n && c.input === 0 && (n.opType === 'Conv' || n.opType === 'ConvTranspose')) {
      const w = idx.shapeOf(n.input?.[1] ?? '');
      if (w) return w.length;
    }
  }
  throw new QuantizeError(`per-channel quantizer '${spec.id}': cannot tell the rank of tensor '${spec.tensor}'`, {
    field: spec.tensor,
    expected: 'a declared shape or a Conv consumer',
  });
}

/** Throws unless `spec.tensor` is (or may be: type unknown) a float32 tensor. */
export function checkFloatTensor(types: Map<string, number>, spec: QuantizerSpec): void {
  const t = types.get(spec.tensor);
  if (t && t !== DataType.FLOAT) {
    throw new QuantizeError(`quantizer '${spec.id}': tensor '${spec.tensor}' has element type ${t}, only float32 tensors are quantized`, { field: spec.tensor });
  }
}

/** Points every consumer in `spec.consumers` at `replacement` instead of `spec.tensor`. */
export function rewire(idx: GraphIndex, spec: QuantizerSpec, replacement: string): void {
  for (const c of spec.consumers) {
    const i = idx.nodeByName.get(c.node);
    if (i === undefined) throw new QuantizeError(`quantizer '${spec.id}': consumer node '${c.node}' is not in the model`, { field: c.node });
    const n = idx.nodes[i];
    if (n.input?.[c.input] !== spec.tensor) {
      throw new QuantizeError(`quantizer '${spec.id}': input ${c.input} of node '${c.node}' is '${n.input?.[c.input] ?? ''}', not '${spec.tensor}'`, { field: c.node });
    }
    n.input[c.input] = replacement;
  }
}

/**
 * Node list with each chain inserted right after the node producing its tensor (chains on graph
 * inputs or initializers go first), so a topologically sorted graph stays sorted.
 */
export function insertChains(idx: GraphIndex, chains: Map<string, NodeProto[]>): NodeProto[] {
  const head: NodeProto[] = [];
  const after = new Map<number, NodeProto[]>();
  for (const [tensor, nodes] of chains) {
    const p = idx.producer.get(tensor);
    if (p === undefined) head.push(...nodes);
    else after.set(p, [...(after.get(p) ?? []), ...nodes]);
  }
  const out = [...head];
  idx.nodes.forEach((n, i) => {
    out.push(n);
    out.push(...(after.get(i) ?? []));
  });
  return out;
}

/** Validates a grid for a quantizer of `n` channels; returns per-channel copies of scale and zp. */
export function gridArrays(id: string, p: QuantizerParams, n: number): { scale: Float32Array; zp: Int32Array } {
  const bad = (what: string, k: number) => new QuantizeError(`quantizer '${id}': ${what} has ${k} values for ${n} channel(s)`, { field: id });
  if (p.scale.length !== n && p.scale.length !== 1) throw bad('scale', p.scale.length);
  if (p.zeroPoint.length !== n && p.zeroPoint.length !== 1) throw bad('zero point', p.zeroPoint.length);
  const scale = p.scale.length === n ? p.scale : new Float32Array(n).fill(p.scale[0]);
  const zp = p.zeroPoint.length === n ? p.zeroPoint : new Int32Array(n).fill(p.zeroPoint[0]);
  for (let c = 0; c < n; c++) {
    if (!(scale[c] > 0) || !Number.isFinite(scale[c]))
      throw new QuantizeError(`quantizer '${id}': scale ${scale[c]} in channel ${c}`, { field: id, expected: 'a positive finite scale' });
    if (zp[c] < p.qmin || zp[c] > p.qmax) throw new QuantizeError(`quantizer '${id}': zero point ${zp[c]} outside [${p.qmin}, ${p.qmax}]`, { field: id });
  }
  return { scale, zp };
}
