// Where quantizers go for onnxruntime's CPU and WASM kernels (`target_device: "ONNXRUNTIME"`).
//
// onnxruntime runs a QDQ model on integers where its QDQ selectors match a node unit
// (onnxruntime/core/optimizer/qdq_transformer/selectors_actions/qdq_selector_action_transformer.cc):
//   DQ(x) + DQ(w) → Conv → Q                         → QLinearConv (Q on the output required)
//   DQ(a) + DQ(b) → MatMul / Gemm [→ Q]              → QLinearMatMul / MatMulIntegerToFloat / QGemm
//   DQ(a) + DQ(b) → Add / Mul → Q                    → QLinearAdd / QLinearMul
//   DQ(x)… → Concat → Q                              → QLinearConcat
//   DQ(x) → AveragePool / GlobalAveragePool / Sigmoid / LeakyRelu / Softmax → Q → QLinear…
// with per-tensor activation scales (per-channel weights are fine). Relu and Clip(0, m) right
// before a Q are removed by ReluQuantFusion / ClipQuantFusion when the Q's range lies within
// theirs, so an op's output quantizer goes after them (the unsigned grid starting at 0 makes
// Relu redundant; the grid is kept within the Clip's maximum, `QuantizerSpec.within`). A DQ
// propagates forward through MaxPool / Reshape / Transpose / Squeeze / Unsqueeze / Slice, so
// quantizers are placed above those, as POT does (not above Flatten, where it stops).
//
// The placement: an op is run on integers ("integer op") when onnxruntime can fuse it:
//  - Conv (constant weight), MatMul and Gemm: always (the heavy ops; their inputs are quantized);
//  - Add, Mul, Concat, pooling, Sigmoid, LeakyRelu, Softmax: when every data input already comes
//    quantized from an integer op (no new quantizer before an element-wise op just for it);
//  - and (Q required) the output is not a graph output.
// Depthwise convolutions run on integers too, although onnxruntime's depthwise QLinearConv is the
// slower kernel here (PaddleOCR batch 1: 1.61 ms against 1.38 ms with them in float natively, 9.5
// against 4.7 ms in WASM): a float Conv/Gemm between a per-tensor DQ and a Q is quantized by
// onnxruntime itself (WeightBiasQuantization: per-tensor int8 weights of its own), which the
// simulation would not see.
// Quantizers: per tensor, on each integer op's activation inputs and on its output (after an
// absorbed Relu/Clip) when its selector needs the Q. Nothing else gets a quantizer: no Q/DQ pair
// around an op onnxruntime cannot run on integers.
import type { DefaultQuantizationParams } from '../config/types';
import { attrFloat } from '../onnx/attributes';
import { elementTypes } from '../onnx/elem-types';
import type { GraphIndex } from '../onnx/graph';
import { DataType, toNum, type NodeProto } from '../onnx/proto';
import { readTensor } from '../onnx/tensor';
import type { QuantizerSpec } from '../types';
import { ignoredNodes, placementOf, weightAxis, type Placement } from './placement-rules';
import { quantizerModes } from './presets';

/** Ops onnxruntime's QDQ selectors turn into integer kernels, and whether the unit needs a Q on the output. */
export const ORT_INTEGER_OPS: Record<string, { inputs: 'weighted' | 'all' | 'data'; outputQ: boolean }> = {
  Conv: { inputs: 'weighted', outputQ: true },
  MatMul: { inputs: 'weighted', outputQ: false },
  Gemm: { inputs: 'weighted', outputQ: false },
  Add: { inputs: 'all', outputQ: true },
  Mul: { inputs: 'all', outputQ: true },
  Concat: { inputs: 'all', outputQ: true },
  AveragePool: { inputs: 'data', outputQ: true },
  GlobalAveragePool: { inputs: 'data', outputQ: true },
  Sigmoid: { inputs: 'data', outputQ: true },
  LeakyRelu: { inputs: 'data', outputQ: true },
  Softmax: { inputs: 'data', outputQ: true },
};

/** Ops a DQ propagates forward through (QDQPropagationTransformer; DropQDQNodes then runs them on the integers), so an
 *  input quantizer goes above them. Not Flatten: a DQ stops there, so the quantizer goes below it (its grid then equals
 *  the one above, the values being the same, and onnxruntime drops the DQ → Flatten → Q pair). */
export const ORT_PASS_OPS = new Set(['MaxPool', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Slice']);

export function analyzeOrtPlacement(idx: GraphIndex, params: DefaultQuantizationParams): Placement {
  const types = elementTypes(idx);
  const isFloat = (t: string) => !!t && types.get(t) === DataType.FLOAT;
  const isAct = (t: string) => isFloat(t) && !idx.isConstant(t);
  // ignored.scope / ignored.operations / transformer types; POT's fused-activation patterns are an
  // OpenVINO matter (onnxruntime has no HSwish/Swish op to fuse them into)
  const ignored = new Map([...ignoredNodes(idx, params)].filter(([, why]) => !why.startsWith('fused activation')));
  const modes = quantizerModes(params);
  const graphOutputs = new Set(idx.outputs);
  const single = (t: string) => idx.usesOf(t).length === 1 && !graphOutputs.has(t);
  const nodeOf = (u: { node: number }) => idx.nodes[u.node];

  /** The tensor an op's output quantizer sits on: after a single-use Relu or Clip(0, m) (absorbed), with the Clip's bound. */
  const effectiveOutput = (t: string): { tensor: string; within?: number } => {
    if (!single(t)) return { tensor: t };
    const next = nodeOf(idx.usesOf(t)[0]);
    const out = next.output?.[0] ?? '';
    if (ignored.has(next.name ?? '') || graphOutputs.has(out) || (next.domain && next.domain !== 'ai.onnx')) return { tensor: t };
    if (next.opType === 'Relu') return { tensor: out };
    if (next.opType === 'Clip') {
      const b = clipBounds(next, idx);
      if (b && b[0] === 0 && b[1] > 0) return { tensor: out, within: b[1] };
    }
    return { tensor: t };
  };

  /** Walk up from an input through single-use pass-through ops to where the quantizer goes. */
  const above = (tensor: string, consumer: { node: string; input: number }): { tensor: string; consumer: { node: string; input: number } } => {
    const prod = idx.producerNode(tensor);
    if (!prod || !single(tensor) || ignored.has(prod.name ?? '') || !ORT_PASS_OPS.has(prod.opType ?? '') || (prod.output ?? []).length !== 1) return { tensor, consumer };
    const data = prod.input?.[0] ?? '';
    if (!isAct(data)) return { tensor, consumer };
    return above(data, { node: prod.name ?? '', input: 0 });
  };

  const quantized = new Set<string>(); // tensors an integer op's output quantizer sits on (after absorption and pass-through ops)
  const within = new Map<string, number>();
  const outputQ = new Map<string, string>(); // tensor → producing integer op
  const inputQ = new Map<string, { node: string; input: number }[]>();
  const weights: { tensor: string; node: NodeProto }[] = [];
  const ops: string[] = [];
  const comesQuantized = (t: string): boolean => {
    if (quantized.has(t)) return true;
    const prod = idx.producerNode(t);
    return !!prod && ORT_PASS_OPS.has(prod.opType ?? '') && comesQuantized(prod.input?.[0] ?? '');
  };

  for (const i of idx.order) {
    const n = idx.nodes[i];
    const op = n.opType ?? '';
    const name = n.name ?? '';
    const rule = ORT_INTEGER_OPS[op];
    if (!rule || (n.domain && n.domain !== 'ai.onnx') || ignored.has(name)) continue;
    const ins = n.input ?? [];
    const out = n.output?.[0] ?? '';
    if (!isFloat(out) || (n.output ?? []).length !== 1) continue;
    const eff = effectiveOutput(out);
    if (rule.outputQ && graphOutputs.has(eff.tensor)) continue;
    const acts: number[] = [];
    let weight: string | undefined;
    if (rule.inputs === 'weighted') {
      if (!isAct(ins[0])) continue;
      acts.push(0);
      const w = ins[1];
      if (w && idx.isConstant(w) && isFloat(w)) weight = w;
      else if (isAct(w) && op !== 'Conv') acts.push(1);
      else continue;
      if (op === 'Gemm' && attrFloat(n, 'alpha', 1) !== 1) continue;
    } else {
      const data = rule.inputs === 'data' ? [0] : ins.map((_, k) => k);
      if (!data.every((k) => isAct(ins[k]) && comesQuantized(ins[k]))) continue;
      acts.push(...data);
    }
    ops.push(name);
    for (const k of acts) {
      const at = above(ins[k], { node: name, input: k });
      inputQ.set(at.tensor, [...(inputQ.get(at.tensor) ?? []), at.consumer]);
    }
    if (weight) weights.push({ tensor: weight, node: n });
    if (rule.outputQ || (!graphOutputs.has(eff.tensor) && idx.usesOf(eff.tensor).length)) {
      if (rule.outputQ) outputQ.set(eff.tensor, name);
      quantized.add(eff.tensor);
      if (eff.within !== undefined) within.set(eff.tensor, eff.within);
    }
  }
  // MatMul/Gemm outputs are quantized only where an integer op reads them
  for (const t of [...quantized]) if (!outputQ.has(t) && !inputQ.has(t)) quantized.delete(t);

  const quantizers: QuantizerSpec[] = [];
  const act = (tensor: string, consumers: { node: string; input: number }[]): QuantizerSpec => {
    const spec: QuantizerSpec = { id: `a:${tensor}`, kind: 'activation', tensor, consumers, mode: modes.activations.mode, granularity: 'pertensor', levels: 256 };
    const w = within.get(tensor);
    if (w !== undefined) spec.within = [0, w];
    return spec;
  };
  const tensors = new Set([...outputQ.keys(), ...inputQ.keys()]);
  for (const t of tensors) {
    // an output quantizer serves every reader (the producer fuses only when a Q is its sole consumer)
    const consumers = outputQ.has(t) ? idx.usesOf(t).map((u) => ({ node: nodeOf(u).name ?? '', input: u.input })) : (inputQ.get(t) ?? []);
    const seen = new Set<string>();
    quantizers.push(
      act(
        t,
        consumers.filter((c) => !seen.has(`${c.node}#${c.input}`) && seen.add(`${c.node}#${c.input}`)),
      ),
    );
  }
  const wById = new Map<string, QuantizerSpec>();
  for (const w of weights) {
    const id = `w:${w.tensor}`;
    const existing = wById.get(id);
    if (existing) {
      existing.consumers.push({ node: w.node.name!, input: 1 });
      continue;
    }
    const dims = (idx.initializers.get(w.tensor)!.dims ?? []).map(toNum);
    const axis = weightAxis(w.node, idx);
    const mode = modes.weights.mode;
    const spec: QuantizerSpec = {
      id,
      kind: 'weight',
      tensor: w.tensor,
      consumers: [{ node: w.node.name!, input: 1 }],
      mode,
      granularity: dims.length < 2 ? 'pertensor' : 'perchannel',
      levels: mode === 'symmetric' ? 255 : 256,
      channels: dims.length < 2 ? 1 : (dims[axis] ?? 1),
    };
    if (dims.length >= 2) spec.axis = axis;
    wById.set(id, spec);
    quantizers.push(spec);
  }
  return placementOf(idx, quantizers, ops, ignored);
}

/** Constant [min, max] of a Clip (attributes below opset 11, inputs from it); undefined when not constant. */
export function clipBounds(n: NodeProto, idx: GraphIndex): [number, number] | undefined {
  const ins = n.input ?? [];
  if (ins.length <= 1 && (n.attribute ?? []).some((a) => a.name === 'min' || a.name === 'max')) {
    return [attrFloat(n, 'min', -Infinity), attrFloat(n, 'max', Infinity)];
  }
  const scalar = (t: string | undefined, dflt: number): number | undefined => {
    if (!t) return dflt;
    const init = idx.initializers.get(t);
    if (!init || init.dataType !== DataType.FLOAT) return undefined;
    const d = readTensor(init).data as Float32Array;
    return d.length === 1 ? d[0] : undefined;
  };
  const lo = scalar(ins[1], -Infinity);
  const hi = scalar(ins[2], Infinity);
  return lo === undefined || hi === undefined ? undefined : [lo, hi];
}
