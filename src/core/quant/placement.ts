// Where quantizers go (POT CPU rules: `configs/hardware/cpu.json`, `graph/cpu_patterns.py`,
// `algorithms/quantization/fake_quantize_configuration.py`): activation quantizers on the
// inputs of quantizable ops, propagated up through quantize-agnostic ops; weight quantizers on
// constant weights, per output channel; one quantizer per tensor; Concat inputs share one range.
import type { DefaultQuantizationParams } from '../config/types';
import { elementTypes } from '../onnx/elem-types';
import { GraphIndex } from '../onnx/graph';
import { DataType, toNum, type ModelProto, type NodeProto } from '../onnx/proto';
import type { QuantMode, QuantizerSpec } from '../types';
import { ACTIVATION_ONLY_OPS, AGNOSTIC_OPS, ELTWISE_OPS, WEIGHTED_OPS, isQuantizableOp } from './hardware';
import { analyzeOrtPlacement } from './placement-ort';
import { depthwiseChannels, ignoredNodes, placementOf, weightAxis, type Placement } from './placement-rules';
import { quantizerModes } from './presets';

export { fusedActivationNodes, ignoredNodes, weightAxis, type Placement } from './placement-rules';

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

/** The placement for the config's target device: onnxruntime's kernels for ONNXRUNTIME (placement-ort.ts), POT's CPU rules otherwise. */
export function analyzePlacement(idx: GraphIndex, params: DefaultQuantizationParams): Placement {
  return params.target_device === 'ONNXRUNTIME' ? analyzeOrtPlacement(idx, params) : analyzePotPlacement(idx, params);
}

/** POT's CPU placement. */
export function analyzePotPlacement(idx: GraphIndex, params: DefaultQuantizationParams): Placement {
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
  return placementOf(idx, quantizers, ops, ignored);
}
