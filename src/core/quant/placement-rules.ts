// Placement rules shared by POT's placement (placement.ts) and onnxruntime's (placement-ort.ts):
// the placement result, weight axes, depthwise convolutions and the nodes the config ignores.
import type { DefaultQuantizationParams } from '../config/types';
import { attrInt } from '../onnx/attributes';
import type { GraphIndex } from '../onnx/graph';
import { DataType, toNum, type NodeProto } from '../onnx/proto';
import { readTensor } from '../onnx/tensor';
import type { QuantizerSpec } from '../types';
import { POT_TO_ONNX, TRANSFORMER_IGNORED } from './hardware';

export interface Placement {
  quantizers: QuantizerSpec[];
  /** Quantizable, not ignored ops (node names), topological order. */
  ops: string[];
  /** Nodes excluded by `ignored`, `model_type` or fused-activation patterns, with the reason. */
  ignored: { node: string; reason: string }[];
}

/** Output-channel axis of a constant weight (POT transposes MatMul weights to transpose_b layout). */
export function weightAxis(n: NodeProto, idx: GraphIndex): number {
  const dims = (idx.initializers.get(n.input?.[1] ?? '')?.dims ?? []).map(toNum);
  switch (n.opType) {
    case 'Conv':
      return 0;
    case 'ConvTranspose':
      return 1;
    case 'Gemm':
      return attrInt(n, 'transB', 0) ? 0 : 1;
    default:
      return Math.max(dims.length - 1, 0); // MatMul [K, N]: output features on the last axis
  }
}

/** Channel count when `n` is a depthwise Conv (group == C_in == C_out > 1), else 0. */
export function depthwiseChannels(n: NodeProto, idx: GraphIndex): number {
  const group = attrInt(n, 'group', 1);
  const w = idx.initializers.get(n.input?.[1] ?? '');
  if (group <= 1 || !w) return 0;
  const dims = (w.dims ?? []).map(toNum);
  return dims[0] === group && dims[1] === 1 ? group : 0;
}

/** Nodes that get no quantizers: `ignored.scope`, `ignored.operations`, transformer types, fused activations. */
export function ignoredNodes(idx: GraphIndex, params: DefaultQuantizationParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of params.ignored.scope) if (idx.nodeByName.has(s)) out.set(s, 'ignored.scope');
  const types = new Map<string, string>();
  const addType = (t: string, why: string) => (POT_TO_ONNX[t] ?? [t]).forEach((o) => types.set(o, why));
  for (const o of params.ignored.operations) addType(o.type, 'ignored.operations');
  if (params.model_type === 'transformer') {
    for (const t of TRANSFORMER_IGNORED) addType(t, 'model_type transformer');
    if (params.target_device !== 'CPU_SPR') addType('Multiply', 'model_type transformer');
  }
  for (const n of idx.nodes) {
    const why = types.get(n.opType ?? '');
    if (why && !out.has(n.name ?? '')) out.set(n.name ?? '', why);
  }
  for (const name of fusedActivationNodes(idx)) if (!out.has(name)) out.set(name, 'fused activation (HSwish/HSigmoid/Swish)');
  return out;
}

/**
 * Eltwise nodes that OpenVINO's model conversion fuses into one activation op (HSwish, HSigmoid,
 * Swish), which POT then does not quantize: x·HardSigmoid(x), x·Sigmoid(x),
 * x·Clip(x+3, 0, 6)/6 (or ·(1/6)), Clip(x+3, 0, 6)/6.
 */
export function fusedActivationNodes(idx: GraphIndex): string[] {
  const out: string[] = [];
  const prodOp = (t: string) => idx.producerNode(t);
  const scalar = (t: string) => {
    const init = idx.initializers.get(t);
    if (!init || (init.dims ?? []).map(toNum).reduce((a, b) => a * b, 1) !== 1) return undefined;
    if (init.dataType !== DataType.FLOAT) return undefined;
    return (readTensor(init).data as Float32Array)[0];
  };
  const isRelu6Of3 = (t: string): string | undefined => {
    // Clip(Add(x, 3), 0, 6) → returns the Add node name and x
    const clip = prodOp(t);
    if (clip?.opType !== 'Clip') return undefined;
    const add = prodOp(clip.input?.[0] ?? '');
    if (add?.opType !== 'Add') return undefined;
    const [a, b] = add.input ?? [];
    if (scalar(b) === 3 || scalar(a) === 3) return add.name ?? undefined;
    return undefined;
  };
  for (const n of idx.nodes) {
    const [a, b] = n.input ?? [];
    if (n.opType === 'Mul') {
      for (const [x, g] of [
        [a, b],
        [b, a],
      ]) {
        const p = prodOp(g);
        if (p && (p.opType === 'HardSigmoid' || p.opType === 'Sigmoid') && p.input?.[0] === x) out.push(n.name!);
        const add = isRelu6Of3(g);
        if (add && prodOp(g) && idx.producerNode(prodOp(g)!.input?.[0] ?? '')?.input?.includes(x)) {
          out.push(n.name!, add);
          const div = idx
            .usesOf(n.output?.[0] ?? '')
            .map((u) => idx.nodes[u.node])
            .find((d) => d.opType === 'Div' || d.opType === 'Mul');
          if (div && (scalar(div.input?.[1] ?? '') === 6 || Math.abs((scalar(div.input?.[1] ?? '') ?? 0) - 1 / 6) < 1e-6)) out.push(div.name!);
        }
      }
    } else if (n.opType === 'Div' && scalar(b) === 6) {
      const add = isRelu6Of3(a);
      if (add) out.push(n.name!, add); // HSigmoid
    }
  }
  return [...new Set(out)];
}

/** A placement from its quantizers, in the order of their first consumer in the graph (activations
 *  before weights at the same node, then by id), the ops it quantizes and the nodes it ignores. */
export function placementOf(idx: GraphIndex, quantizers: QuantizerSpec[], ops: string[], ignored: Map<string, string>): Placement {
  const pos = idx.topoPosition();
  const order = (q: QuantizerSpec) => Math.min(...q.consumers.map((c) => pos.get(idx.nodeByName.get(c.node) ?? -1) ?? 0));
  quantizers.sort((a, b) => order(a) - order(b) || (a.kind === b.kind ? a.id.localeCompare(b.id) : a.kind === 'activation' ? -1 : 1));
  return { quantizers, ops, ignored: [...ignored.entries()].map(([node, reason]) => ({ node, reason })) };
}
