// The statistics pass: one extra run of the FP32 model over the calibration samples, reduced to
// per-sample statistics as batches arrive (never holding the activations). The quantizer reduces
// inside the graph (inplace-stats.ts); the JS path here — the watched tensors exposed as graph
// outputs and reduced by TensorStatsCollector — is the reference and the fallback.
import { GraphIndex } from '../onnx/graph';
import { cloneModel, onnx, type ModelProto } from '../onnx/proto';
import { TensorStatsCollector, type SampleStat } from './statistics';
import type { Granularity } from '../types';

export interface WatchRequest {
  tensor: string;
  granularity: Granularity;
  /** Channel axis for per-channel statistics and means (1 for NCHW; −1 for MatMul/Gemm). */
  channelAxis: number;
  stats: SampleStat[];
}

/** A copy of the model whose graph outputs also include the watched tensors. */
export function statisticsModel(model: ModelProto, tensors: string[]): ModelProto {
  const m = cloneModel(model);
  const g = m.graph!;
  const existing = new Set((g.output ?? []).map((o) => o.name));
  for (const t of tensors) {
    if (existing.has(t)) continue;
    g.output = [...(g.output ?? []), onnx.ValueInfoProto.create({ name: t, type: { tensorType: { elemType: 1 } } })];
    existing.add(t);
  }
  // value_info entries may carry shapes that conflict with graph outputs; ORT accepts both.
  new GraphIndex(m); // validates (cycles)
  return m;
}

export class CalibrationStats {
  readonly collectors = new Map<string, TensorStatsCollector>();
  /** Spatial dims of each watched tensor (from the first batch), without batch and channel. */
  readonly shapes = new Map<string, number[]>();

  constructor(requests: WatchRequest[]) {
    for (const r of requests) {
      this.collectors.set(r.tensor, new TensorStatsCollector({ granularity: r.granularity, channelAxis: r.channelAxis, stats: r.stats }));
    }
  }

  get tensors(): string[] {
    return [...this.collectors.keys()];
  }

  add(tensor: string, data: Float32Array, dims: number[]): void {
    const c = this.collectors.get(tensor);
    if (!c) return;
    if (!this.shapes.has(tensor)) this.shapes.set(tensor, dims.slice(1));
    c.add(data, dims);
  }
}
