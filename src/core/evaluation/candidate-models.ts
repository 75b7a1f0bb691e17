// The models a quantized configuration (QuantState) is evaluated or exported with:
//  - the switchable fake-quant graph (built once) and the feeds that select a configuration;
//  - a fake-quant model per configuration: fake-quantized weights (and corrected biases) baked in
//    as FP32 constants, a QuantizeLinear→DequantizeLinear pair on each enabled activation
//    quantizer, run with Q/DQ kept as float ops (FAKE_QUANT_SESSION_OPTIONS). It computes what
//    the switchable graph computes for that configuration, without the Where gates, the always-on
//    Q/DQ of disabled quantizers and the weights-as-inputs that keep onnxruntime from
//    pre-processing constant weights;
//  - the standard QDQ model (export; int8 kernels where onnxruntime fuses them).
import type { GraphIndex } from '../onnx/graph';
import { cloneModel, opsetVersion, type ModelProto } from '../onnx/proto';
import { upgradeOpset } from '../onnx/opset-upgrade';
import { makeTensor, readTensor, toFloat32 } from '../onnx/tensor';
import type { Placement } from '../quant/placement';
import { exportQdqModel } from '../quant/qdq-export';
import { fakeQuantize } from '../quant/ranges';
import { EXACT_SESSION_OPTIONS, buildSwitchableModel, makeFeeds, type SwitchFlavor, type SwitchLayout } from '../quant/switchable';
import type { QuantizerParams, QuantizerSpec, TensorData } from '../types';
import type { QuantState } from '../algorithms/backend';
import { toQuantizerParams } from '../quant/stored';

/** Session options of the per-configuration fake-quant model: the FP32 session's options (so the
 *  arithmetic matches the FP32 and switchable sessions) with Q/DQ left as separate float ops —
 *  onnxruntime would otherwise fuse them into int8 kernels and even quantize the baked weights
 *  with its own grid. */
export const FAKE_QUANT_SESSION_OPTIONS: Record<string, unknown> = {
  ...EXACT_SESSION_OPTIONS,
  extra: { session: { ...EXACT_SESSION_OPTIONS.extra.session, disable_quant_qdq: '1' } },
};

/** If-gated switchable graphs gate tensors of at most this many elements per sample with Where. */
export const WHERE_BELOW = 4096;

export class CandidateModels {
  private readonly specs = new Map<string, QuantizerSpec>();
  private readonly weightCache = new Map<string, Float32Array>();

  constructor(
    readonly model: ModelProto,
    readonly idx: GraphIndex,
    readonly placement: Placement,
  ) {
    for (const q of placement.quantizers) this.specs.set(q.id, q);
  }

  /** Fake-quantized weights and corrected biases of the enabled weight quantizers, by initializer name. */
  weightOverrides(state: QuantState): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    const enabled = new Set(state.enabled);
    for (const id of state.enabled) {
      const q = this.specs.get(id);
      if (!q || q.kind !== 'weight') continue;
      const stored = state.quantizers[id];
      const key = `${id}|${stored.scale.join(',')}|${stored.zeroPoint.join(',')}`;
      let w = this.weightCache.get(key);
      if (!w) {
        const init = this.idx.initializers.get(q.tensor)!;
        w = fakeQuantize(toFloat32(readTensor(init)), (init.dims ?? []).map(Number), toQuantizerParams(stored), q.axis ?? 0);
        this.weightCache.set(key, w);
      }
      out[q.tensor] = w;
      for (const c of q.consumers) {
        const b = state.biases[c.node];
        const n = this.idx.nodes[this.idx.nodeByName.get(c.node)!];
        if (b && n.input?.[2] && enabled.has(id)) out[n.input[2]] = Float32Array.from(b);
      }
    }
    return out;
  }

  /** Initializers a switchable graph takes as inputs (quantized weights and their biases). */
  overridable(): string[] {
    const names = new Set<string>();
    for (const q of this.placement.quantizers) {
      if (q.kind !== 'weight') continue;
      names.add(q.tensor);
      for (const c of q.consumers) {
        const n = this.idx.nodes[this.idx.nodeByName.get(c.node)!];
        if (n.input?.[2] && this.idx.isConstant(n.input[2])) names.add(n.input[2]);
      }
    }
    return [...names];
  }

  /**
   * The switchable graph, on the model raised to opset 13 like the exported one (Q/DQ per axis need
   * it; below it the 'qdq' flavor falls back to the much slower float form). `gate` 'if' runs only
   * the selected branch — on the CPU engines far cheaper than Where, which computes both and
   * selects element by element (bench/results.md); WebGPU keeps Where (control flow leaves the GPU).
   */
  switchable(flavor: SwitchFlavor, gate: 'where' | 'if' = 'where'): { model: ModelProto; layout: SwitchLayout } {
    const model = opsetVersion(this.model) < 13 ? upgradeOpset(this.model, 13).model : this.model;
    return buildSwitchableModel(model, this.placement.quantizers, { flavor, overridable: this.overridable(), gate, whereBelow: gate === 'if' ? WHERE_BELOW : undefined });
  }

  /** Feeds that make a switchable session compute `state`. */
  feeds(layout: SwitchLayout, state: QuantState): Record<string, TensorData> {
    return makeFeeds(layout, new Set(state.enabled), paramsOf(state), this.weightOverrides(state));
  }

  /** The standard QDQ model of a state (export; int8 kernels in onnxruntime where it fuses them). */
  exportModel(state: QuantState): ModelProto {
    const biases: Record<string, Float32Array> = {};
    const enabled = new Set(state.enabled);
    for (const [node, b] of Object.entries(state.biases)) {
      const wq = this.placement.quantizers.find((q) => q.kind === 'weight' && q.consumers.some((c) => c.node === node));
      if (wq && enabled.has(wq.id)) biases[node] = Float32Array.from(b);
    }
    return exportQdqModel(this.model, this.placement.quantizers, paramsOf(state), enabled, biases);
  }

  /** The fake-quant model of one state (run it with FAKE_QUANT_SESSION_OPTIONS). */
  fakeQuantModel(state: QuantState): ModelProto {
    const ov = this.weightOverrides(state);
    const m = cloneModel(this.model);
    m.graph!.initializer = (m.graph!.initializer ?? []).map((t) => {
      const v = ov[t.name ?? ''];
      return v ? makeTensor(t.name!, 'float32', (t.dims ?? []).map(Number), v) : t;
    });
    const acts = new Set(state.enabled.filter((id) => this.specs.get(id)?.kind === 'activation'));
    return exportQdqModel(m, this.placement.quantizers, paramsOf(state), acts, {});
  }
}

function paramsOf(state: QuantState): Record<string, QuantizerParams> {
  const params: Record<string, QuantizerParams> = {};
  for (const [id, s] of Object.entries(state.quantizers)) params[id] = toQuantizerParams(s);
  return params;
}
