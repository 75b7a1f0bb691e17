// Where quantizers go (POT CPU rules: `configs/hardware/cpu.json`, `graph/cpu_patterns.py`,
// `algorithms/quantization/fake_quantize_configuration.py`): activation quantizers on the
// inputs of quantizable ops, propagated up through quantize-agnostic ops; weight quantizers on
// constant weights, per output channel; one quantizer per tensor; Concat inputs share one range.
import type { DefaultQuantizationParams } from '../config/types';
import { attrInt } from '../onnx/attributes';
import { elementTypes } from '../onnx/elem-types';
import { GraphIndex } from '../onnx/graph';
import { DataType, toNum, type ModelProto, type NodeProto } from '../onnx/proto';
import { readTensor } from '../onnx/tensor';
import type { QuantMode, QuantizerSpec } from '../types';
import { ACTIVATION_ONLY_OPS, AGNOSTIC_OPS, ELTWISE_OPS, POT_TO_ONNX, TRANSFORMER_IGNORED, WEIGHTED_OPS, isQuantizableOp } from './hardware';
import { quantizerModes } from './presets';

export interface Placement {
  quantizers: QuantizerSpec[];
  /** Quantizable, not ignored ops (node names), topological order. */
  ops: string[];
  /** Nodes excluded by `ignored`, `model_type` or fused-activation patterns, with the reason. */
  ignored: { node: string; reason: string }[];
}

export function placeQuantizers(model: ModelProto, params: DefaultQuantizationParams): QuantizerSpec[] {
  return analyzePlacement(new GraphIndex(model), params).quantizers;
}

interface Point {
  tensor: string;
  consumer: { node: string; input: number };
  perChannel?: number; // channel count when the consumer wants per-channel (depthwise input)
  unifiedKey?: string;
  symmetricForced?: boolean;
}

export function analyzePlacement(idx: GraphIndex, params: DefaultQuantizationParams): Placement {
  const types = elementTypes(idx);
  const isFloat = (t: string) => types.get(t) === DataType.FLOAT;
  const ignored = ignoredNodes(idx, params);
  const modes = quantizerModes(params);
  const graphOutputs = new Set(idx.outputs);
  const points: Point[] = [];
  const weights: { tensor: string; node: NodeProto; input: number; axis: number }[] = [];
  const ops: string[] = [];

  // Walk up from (node, input) through single-use agnostic ops; Concat fans out to its inputs.
  const propagate = (p: Point, depthwise: boolean, unifyOk: boolean): Point[] => {
    const prodIdx = idx.producer.get(p.tensor);
    const prod = prodIdx === undefined ? undefined : idx.nodes[prodIdx];
    if (!prod || ignored.has(prod.name ?? '') || graphOutputs.has(p.tensor) || idx.usesOf(p.tensor).length !== 1) return [p];
    const op = prod.opType ?? '';
    if (!AGNOSTIC_OPS.has(op) || op === 'Split' || (prod.output ?? []).length !== 1) return [p];
    if (op === 'Concat') {
      const ins = (prod.input ?? []).map((t, k) => ({ t, k })).filter(({ t }) => t && !idx.isConstant(t) && isFloat(t));
      if (ins.length !== (prod.input ?? []).length) return [p]; // constant or non-float inputs: keep the FQ after the Concat
      const key = unifyOk && !depthwise && ins.length > 1 ? `concat:${prod.name}` : undefined;
      return ins.flatMap(({ t, k }) =>
        propagate({ ...p, tensor: t, consumer: { node: prod.name!, input: k }, unifiedKey: key ?? p.unifiedKey, perChannel: key ? undefined : p.perChannel }, depthwise, unifyOk),
      );
    }
    const data = prod.input?.[0] ?? '';
    if (!data || idx.isConstant(data) || !isFloat(data)) return [p];
    return propagate({ ...p, tensor: data, consumer: { node: prod.name!, input: 0 } }, depthwise, unifyOk);
  };

  for (const i of idx.order) {
    const n = idx.nodes[i];
    const op = n.opType ?? '';
    const name = n.name ?? '';
    if (!isQuantizableOp(op) || (n.domain && n.domain !== 'ai.onnx') || ignored.has(name)) continue;
    const ins = n.input ?? [];
    const acts: number[] = [];
    if (WEIGHTED_OPS.has(op)) {
      if (ins[0] && !idx.isConstant(ins[0]) && isFloat(ins[0])) acts.push(0);
      const w = ins[1];
      if (w && idx.isConstant(w) && isFloat(w)) weights.push({ tensor: w, node: n, input: 1, axis: weightAxis(n, idx) });
      else if (w && isFloat(w) && (op === 'MatMul' || op === 'Gemm')) acts.push(1);
    } else if (ELTWISE_OPS.has(op)) {
      ins.forEach((t, k) => t && !idx.isConstant(t) && isFloat(t) && acts.push(k));
    } else if (ACTIVATION_ONLY_OPS.has(op)) {
      if (ins[0] && !idx.isConstant(ins[0]) && isFloat(ins[0])) acts.push(0);
    }
    if (!acts.length && !weights.some((w) => w.node === n)) continue;
    ops.push(name);
    const dw = op === 'Conv' ? depthwiseChannels(n, idx) : 0;
    const actXact = (op === 'MatMul' || op === 'Gemm') && !ins.slice(0, 2).some((t) => idx.isConstant(t));
    for (const k of acts) {
      const base: Point = {
        tensor: ins[k],
        consumer: { node: name, input: k },
        perChannel: dw && k === 0 ? dw : undefined,
        symmetricForced: params.model_type === 'transformer' && actXact,
      };
      points.push(...propagate(base, dw > 0, WEIGHTED_OPS.has(op)));
    }
  }

  // One quantizer per tensor: merge consumers; per-channel only if every consumer wants it.
  const byTensor = new Map<string, QuantizerSpec & { _pc: boolean[]; _sym: boolean }>();
  for (const p of points) {
    let q = byTensor.get(p.tensor);
    if (!q) {
      q = {
        id: `a:${p.tensor}`,
        kind: 'activation',
        tensor: p.tensor,
        consumers: [],
        mode: modes.activations.mode,
        granularity: 'pertensor',
        levels: 256,
        _pc: [],
        _sym: false,
      };
      byTensor.set(p.tensor, q);
    }
    if (!q.consumers.some((c) => c.node === p.consumer.node && c.input === p.consumer.input)) q.consumers.push(p.consumer);
    q._pc.push(!!p.perChannel && !p.unifiedKey);
    if (p.perChannel) q.channels = p.perChannel;
    if (p.unifiedKey) q.unifiedKey = p.unifiedKey;
    if (p.symmetricForced) q._sym = true;
  }
  const quantizers: QuantizerSpec[] = [];
  for (const q of byTensor.values()) {
    const { _pc, _sym, ...spec } = q;
    if (_pc.length && _pc.every(Boolean) && !spec.unifiedKey) {
      spec.granularity = 'perchannel';
      spec.axis = 1;
    } else delete spec.channels;
    if (_sym) spec.mode = 'symmetric';
    quantizers.push(spec);
  }
  const wById = new Map<string, QuantizerSpec>();
  for (const w of weights) {
    const id = `w:${w.tensor}`;
    const dims = (idx.initializers.get(w.tensor)!.dims ?? []).map(toNum);
    const existing = wById.get(id);
    if (existing) {
      existing.consumers.push({ node: w.node.name!, input: w.input });
      continue;
    }
    const mode: QuantMode = modes.weights.mode;
    const spec: QuantizerSpec = {
      id,
      kind: 'weight',
      tensor: w.tensor,
      consumers: [{ node: w.node.name!, input: w.input }],
      mode,
      granularity: 'perchannel',
      axis: w.axis,
      channels: dims[w.axis] ?? 1,
      levels: mode === 'symmetric' ? 255 : 256,
    };
    if (dims.length < 2) {
      spec.granularity = 'pertensor';
      delete spec.axis;
      spec.channels = 1;
    }
    wById.set(id, spec);
    quantizers.push(spec);
  }
  const pos = idx.topoPosition();
  const order = (q: QuantizerSpec) => Math.min(...q.consumers.map((c) => pos.get(idx.nodeByName.get(c.node) ?? -1) ?? 0));
  quantizers.sort((a, b) => order(a) - order(b) || (a.kind === b.kind ? a.id.localeCompare(b.id) : a.kind === 'activation' ? -1 : 1));
  return { quantizers, ops, ignored: [...ignored.entries()].map(([node, reason]) => ({ node, reason })) };
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
function depthwiseChannels(n: NodeProto, idx: GraphIndex): number {
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
