// Statistics reduced inside the graph (issue 11). The statistics model computes each watched
// tensor's per-sample statistics itself, so only the reduced values leave the session:
//
//   min / max / abs_max   ReduceMin / ReduceMax over the sample's axes, keepdims 0 (abs_max is
//                         max(|min|, |max|), taken in JS)
//   mean                  Cast to double → ReduceSum (JS divides by the block length), the
//                         float64 accumulation the JS collector does
//   quantile q            TopK of the flattened sample (largest for q > 0.5, smallest otherwise)
//                         with k just large enough to hold both order statistics around q·(n−1)
//                         that numpy's linear interpolation reads; JS interpolates as before
//
// Each sample is seen as [B, N] (per-tensor), [B, C, R] (channel axis 1) or [B, R, C] (channel
// axis −1) through a Reshape. Min, max and TopK only select values, so they equal the JS
// collector's bit for bit whenever the sample holds no NaN (the JS loop skips NaN, ORT's kernels
// may not): every sample is checked in the graph (a NaN makes its sum NaN), and a tensor with a
// NaN, a rank below 2 or an empty block is collected again by the JS path
// (`TensorStatsCollector`, the reference implementation). The aggregation over samples stays in
// JS (statistics.ts), on the per-sample values, batch by batch.
//
// Pure TS: no DOM, no Node APIs.
import { intAttr, intsAttr } from '../onnx/attributes';
import { GraphIndex } from '../onnx/graph';
import { upgradeOpset } from '../onnx/opset-upgrade';
import { DataType, cloneModel, onnx, opsetVersion, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/proto';
import { makeTensor } from '../onnx/tensor';
import { QuantizeError, type TensorData } from '../types';
import { quantileAt } from './aggregators';
import type { CalibrationStats } from './calibration';
import { Names, valueInfo } from './qdq-common';
import type { ResolvedSampleStat } from './statistics';

/** Sample layouts reduced in the graph: per-tensor, channel axis 1 (NCHW), channel axis −1 (last). */
type Layout = 'T' | 'C1' | 'C-1';
const LAYOUTS: readonly string[] = ['T', 'C1', 'C-1'];

/** Lowest opset the graph forms below need for quantiles and the last-axis layout (TopK with a
 *  `largest` attribute and k as an input, Gather with negative indices). */
const QUANTILE_OPSET = 11;

/** k of a TopK, in the graph: ⌊N·num / 2^30⌋ + 3 capped at N, with num/2^30 ≥ the tail fraction. */
const K_DEN = 2 ** 30;

interface StatOutput {
  key: string;
  layout: Layout;
  /** reduce: [B] or [B, C] float values; absmax: the min (output) and max (output2) reductions;
   *  sum: [B] or [B, C] float64 sums; topk: [B, k], [B, C, k] or [B, k, C]. */
  kind: 'reduce' | 'absmax' | 'sum' | 'topk';
  output: string;
  output2?: string;
  q?: number;
  /** topk: the k largest in descending order (else the k smallest, ascending). */
  largest?: boolean;
}

interface TensorPlan {
  tensor: string;
  /** [1, rank] int64: the watched tensor's shape (batch as run, padding rows included). */
  shape: string;
  /** [B] (or [B, C]) sums that are NaN when the sample holds a NaN; absent when only means are asked. */
  check?: string;
  outputs: StatOutput[];
}

export interface InGraphStatistics {
  /** The statistics model (the normalised model, raised to opset 11 when quantiles need it). */
  model: ModelProto;
  /** Outputs to fetch with every batch. */
  fetch: string[];
  /** Watched tensors exposed whole and reduced by the JS collector (layouts the graph does not reduce). */
  raw: string[];
  plans: TensorPlan[];
}

const isQuantile = (s: ResolvedSampleStat) => s.type === 'quantile' || s.type === 'abs_quantile';

/**
 * The statistics model for the collectors of `stats`, reducing in the graph what it can. Returns
 * undefined when the model cannot carry the reductions (its opset cannot be raised to what they
 * need and every tensor would go raw): the caller then uses the JS path (calibration.ts).
 */
export function inGraphStatistics(model: ModelProto, stats: CalibrationStats): InGraphStatistics | undefined {
  const wanted = [...stats.collectors].map(([tensor, c]) => ({ tensor, req: c.requested }));
  const reducible = (w: (typeof wanted)[number], opset: number) =>
    w.req.every((r) => LAYOUTS.includes(r.layout)) && (opset >= QUANTILE_OPSET || w.req.every((r) => !isQuantile(r.stat) && r.layout !== 'C-1'));
  let m: ModelProto;
  let opset = opsetVersion(model);
  if (opset < QUANTILE_OPSET && wanted.some((w) => !reducible(w, opset) && reducible(w, QUANTILE_OPSET))) {
    try {
      m = upgradeOpset(model, QUANTILE_OPSET).model;
      opset = QUANTILE_OPSET;
    } catch {
      m = cloneModel(model); // what needs opset 11 goes raw
    }
  } else m = cloneModel(model);
  const idx = new GraphIndex(m);
  const present = (t: string) => idx.producerNode(t) !== undefined || idx.inputs.includes(t);
  if (!wanted.every((w) => present(w.tensor))) return undefined;
  const declaredRank = (t: string) => idx.shapeOf(t)?.length ?? 2;
  const inGraph = wanted.filter((w) => reducible(w, opset) && declaredRank(w.tensor) >= 2);
  if (!inGraph.length) return undefined;

  const g = m.graph!;
  const names = new Names(g);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const outs: ValueInfoProto[] = [];
  const consts = new Map<string, string>();
  const fresh = (what: string) => names.fresh(`aaq_stats/${what}`);
  const i64 = (vals: number[]): string => {
    const k = vals.join(',');
    let name = consts.get(k);
    if (!name) {
      name = fresh('const');
      inits.push(makeTensor(name, 'int64', [vals.length], BigInt64Array.from(vals.map((v) => BigInt(v)))));
      consts.set(k, name);
    }
    return name;
  };
  const op = (opType: string, input: string[], attrs: AttributeProto[] = [], nOut = 1): string[] => {
    const output = Array.from({ length: nOut }, () => fresh(opType));
    nodes.push(onnx.NodeProto.create({ name: fresh(`${opType}_node`), opType, input, output, attribute: attrs.map((a) => onnx.AttributeProto.create(a)) }));
    return output;
  };
  const reduce = (opType: 'ReduceMin' | 'ReduceMax' | 'ReduceSum', x: string, axis: number): string => {
    const axesAsInput = opType === 'ReduceSum' ? opset >= 13 : opset >= 18;
    return axesAsInput ? op(opType, [x, i64([axis])], [intAttr('keepdims', 0)])[0] : op(opType, [x], [intsAttr('axes', [axis]), intAttr('keepdims', 0)])[0];
  };
  const expose = (name: string, elemType: number) => outs.push(valueInfo(name, elemType));

  const plans: TensorPlan[] = [];
  // each tensor's reductions, as one block of nodes (see the order below)
  const blocks: NodeProto[][] = [];
  for (const w of inGraph) {
    const from = nodes.length;
    const t = w.tensor;
    const shapeFull = op('Shape', [t])[0];
    const shape = op('Reshape', [shapeFull, i64([1, -1])])[0];
    expose(shape, DataType.INT64);
    const plan: TensorPlan = { tensor: t, shape, outputs: [] };
    // per layout: the view, its reduced axis, and the shared Abs / Cast / block length
    const views = new Map<Layout, { x: string; axis: number; min?: string; max?: string; abs?: string; f64?: string; n?: string }>();
    const view = (layout: Layout) => {
      let v = views.get(layout);
      if (!v) {
        if (layout === 'T') v = { x: op('Reshape', [t, i64([0, -1])])[0], axis: 1 };
        else if (layout === 'C1') v = { x: op('Reshape', [t, i64([0, 0, -1])])[0], axis: 2 };
        else {
          const c = op('Gather', [shapeFull, i64([-1])], [intAttr('axis', 0)])[0];
          const s = op('Concat', [i64([0, -1]), c], [intAttr('axis', 0)])[0];
          v = { x: op('Reshape', [t, s])[0], axis: 1 };
        }
        views.set(layout, v);
      }
      return v;
    };
    // quantiles: one TopK per (layout, plain/abs, direction), with the largest k of its group
    const topGroups = new Map<string, { layout: Layout; abs: boolean; largest: boolean; frac: number; stats: { key: string; q: number }[] }>();
    for (const { key, layout, stat } of w.req) {
      const L = layout as Layout;
      const v = view(L);
      if (stat.type === 'min' || stat.type === 'max' || stat.type === 'abs_max') {
        const mn = stat.type !== 'max' ? (v.min ??= reduce('ReduceMin', v.x, v.axis)) : '';
        const mx = stat.type !== 'min' ? (v.max ??= reduce('ReduceMax', v.x, v.axis)) : '';
        // abs_max = max(|min|, |max|), in JS: no Abs pass over the tensor
        if (stat.type === 'abs_max') plan.outputs.push({ key, layout: L, kind: 'absmax', output: mn, output2: mx });
        else plan.outputs.push({ key, layout: L, kind: 'reduce', output: mn || mx });
      } else if (stat.type === 'mean') {
        v.f64 ??= op('Cast', [v.x], [intAttr('to', DataType.DOUBLE)])[0];
        const o = reduce('ReduceSum', v.f64, v.axis);
        expose(o, DataType.DOUBLE);
        plan.outputs.push({ key, layout: L, kind: 'sum', output: o });
        plan.check ??= o;
      } else if (isQuantile(stat)) {
        const q = stat.q as number;
        const largest = q > 0.5;
        const abs = stat.type === 'abs_quantile';
        const gk = `${L}/${abs}/${largest}`;
        const grp = topGroups.get(gk) ?? { layout: L, abs, largest, frac: 0, stats: [] };
        grp.frac = Math.max(grp.frac, largest ? 1 - q : q);
        grp.stats.push({ key, q });
        topGroups.set(gk, grp);
      } else throw new QuantizeError(`unknown statistic '${String(stat.type)}'`);
    }
    for (const grp of topGroups.values()) {
      const v = view(grp.layout);
      v.n ??= op('Gather', [op('Shape', [v.x])[0], i64([v.axis])], [intAttr('axis', 0)])[0];
      const num = Math.min(K_DEN, Math.ceil(grp.frac * K_DEN) + 1);
      const kRaw = op('Add', [op('Div', [op('Mul', [v.n, i64([num])])[0], i64([K_DEN])])[0], i64([3])])[0];
      const k = op('Where', [op('Less', [kRaw, v.n])[0], kRaw, v.n])[0];
      const x = grp.abs ? (v.abs ??= op('Abs', [v.x])[0]) : v.x;
      const [values] = op('TopK', [x, k], [intAttr('axis', v.axis), intAttr('largest', grp.largest ? 1 : 0), intAttr('sorted', 1)], 2);
      expose(values, DataType.FLOAT);
      for (const s of grp.stats) plan.outputs.push({ key: s.key, layout: grp.layout, kind: 'topk', output: values, q: s.q, largest: grp.largest });
    }
    for (const v of views.values()) for (const o of [v.min, v.max]) if (o) expose(o, DataType.FLOAT);
    if (!plan.check && plan.outputs.some((o) => o.kind !== 'sum')) {
      const v = view('T');
      plan.check = reduce('ReduceSum', v.x, v.axis);
      expose(plan.check, DataType.FLOAT);
    }
    plans.push(plan);
    blocks.push(nodes.splice(from));
  }
  const reduced = new Set(inGraph.map((w) => w.tensor));
  const raw = wanted.map((w) => w.tensor).filter((t) => !reduced.has(t));
  const existing = new Set((g.output ?? []).map((o) => o.name));
  for (const t of raw) if (!existing.has(t)) outs.push(valueInfo(t, DataType.FLOAT));
  // The reduction blocks go after the model's nodes, the deepest watched tensor's first. onnxruntime
  // orders its execution by a depth-first walk back from the graph's leaves that takes the last
  // listed leaf first: with the shallowest tensor's reductions listed last, each block runs as
  // soon as its tensor exists and the tensor is freed then, instead of every watched activation
  // staying alive until the whole network has run. Measured (MobileNetV2 at 224, batch 16,
  // onnxruntime-node): the session's peak 2.5 GB in the model's order, 1.8 GB in this one.
  const order = topologicalRank(g.node ?? [], g.input ?? []);
  const depth = (b: number) => order.get(inGraph[b].tensor) ?? -1;
  const byDepth = blocks.map((_, i) => i).sort((a, b) => depth(b) - depth(a) || b - a);
  g.node = [...(g.node ?? []), ...byDepth.flatMap((i) => blocks[i])];
  g.initializer = [...(g.initializer ?? []), ...inits];
  g.output = [...(g.output ?? []), ...outs];
  new GraphIndex(m); // validates (cycles)
  const fetch = [
    ...new Set([...plans.flatMap((p) => [p.shape, ...(p.check ? [p.check] : []), ...p.outputs.flatMap((o) => (o.output2 ? [o.output, o.output2] : [o.output]))]), ...raw]),
  ];
  return { model: m, fetch, raw, plans };
}

/** Bytes one batch's watched tensors take per sample (as float32), from their shapes in `all`. */
export function watchedBytes(plan: InGraphStatistics, all: Record<string, TensorData>): number {
  let bytes = 0;
  for (const p of plan.plans) {
    const dims = all[p.shape] ? Array.from(all[p.shape].data as BigInt64Array, (d) => Number(d)) : [];
    if (dims.length > 1) bytes += dims.slice(1).reduce((a, b) => a * b, 1) * 4;
  }
  for (const t of plan.raw) if (all[t]) bytes += (all[t].data.length * 4) / Math.max(1, all[t].dims[0] ?? 1);
  return bytes;
}

/** Each tensor's position in the model's node order (inputs: −1). */
function topologicalRank(nodes: NodeProto[], inputs: ValueInfoProto[]): Map<string, number> {
  const rank = new Map<string, number>(inputs.map((i) => [i.name ?? '', -1]));
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) rank.set(o, i);
  });
  return rank;
}

/**
 * Adds one batch of the statistics model's outputs to `stats`: raw tensors through the JS
 * collector, reduced ones as per-sample values. Tensors the graph's values cannot stand for
 * (a NaN in a sample, rank < 2, an empty block) are added to `redo` and skipped from then on.
 */
export function addReducedBatch(plan: InGraphStatistics, all: Record<string, TensorData>, stats: CalibrationStats, redo: Set<string>): void {
  for (const t of plan.raw) if (all[t]) stats.add(t, all[t].data as Float32Array, all[t].dims);
  for (const p of plan.plans) {
    if (redo.has(p.tensor)) continue;
    const col = stats.collectors.get(p.tensor);
    if (!col) continue;
    const dims = Array.from(all[p.shape].data as BigInt64Array, (d) => Number(d));
    if (dims.length < 2) {
      redo.add(p.tensor); // the JS path treats a rank-0/1 tensor as one sample
      continue;
    }
    const n = all[p.outputs[0].output].dims[0];
    if (p.check && (all[p.check].data as Float32Array | Float64Array).some((v) => Number.isNaN(v))) {
      const sumsOnly = p.outputs.every((o) => o.kind === 'sum');
      if (!sumsOnly) {
        redo.add(p.tensor);
        continue;
      }
    }
    const r = dims.length;
    const prod = (a: number, b: number) => dims.slice(a, b).reduce((x, y) => x * y, 1);
    const geometry: Record<Layout, { channels: number; block: number }> = {
      T: { channels: 1, block: prod(1, r) },
      C1: { channels: dims[1], block: prod(2, r) },
      'C-1': { channels: dims[r - 1], block: prod(1, r - 1) },
    };
    if (p.outputs.some((o) => geometry[o.layout].block === 0)) {
      redo.add(p.tensor);
      continue;
    }
    const widths = new Map<string, number>(p.outputs.map((o) => [o.layout, geometry[o.layout].channels]));
    const byKey = new Map(p.outputs.map((o) => [o.key, o]));
    try {
      col.addSamples(n, widths, (key) => {
        const o = byKey.get(key);
        if (!o) throw new QuantizeError(`statistics: ${key} of '${p.tensor}' is not reduced in the graph`);
        const { channels, block } = geometry[o.layout];
        const t = all[o.output];
        if (o.kind === 'reduce') return t.data as Float32Array;
        if (o.kind === 'absmax') {
          const mx = all[o.output2!].data as Float32Array;
          return Float64Array.from(t.data as Float32Array, (mn, i) => Math.max(Math.abs(mn), Math.abs(mx[i])));
        }
        if (o.kind === 'sum') return Float64Array.from(t.data as Float64Array, (s) => s / block);
        return topkQuantiles(t, o, n, channels, block);
      });
    } catch (e) {
      if (!(e instanceof OutOfTopK)) throw e;
      redo.add(p.tensor);
      continue;
    }
    if (!stats.shapes.has(p.tensor)) stats.shapes.set(p.tensor, dims.slice(1));
  }
}

class OutOfTopK extends Error {}

/** Per-sample (and per-channel) quantiles from a TopK output, as `quantileSorted` computes them. */
function topkQuantiles(t: TensorData, o: StatOutput, n: number, channels: number, block: number): Float64Array {
  const d = t.data as Float32Array;
  // TopK over the reduced axis of [n, N], [n, C, R] or [n, R, C]
  const k = o.layout === 'C-1' ? t.dims[1] : t.dims[t.dims.length - 1];
  const out = new Float64Array(n * channels);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < channels; c++) {
      const at = (i: number): number => {
        const j = o.largest ? block - 1 - i : i; // rank in the TopK order
        if (j < 0 || j >= k) throw new OutOfTopK();
        return d[o.layout === 'C-1' ? (s * k + j) * channels + c : (s * channels + c) * k + j];
      };
      out[s * channels + c] = quantileAt(block, o.q as number, at);
    }
  }
  return out;
}
