// Where a switchable graph can be cut so that a candidate configuration resumes from cached
// activations (evaluation/prefix-cache.ts), and the suffix models that resume there.
//
// A cut at position p splits the node list (topological) into a prefix (nodes < p) and a suffix.
// Its frontier is the set of data-dependent tensors made in the prefix and read in the suffix. We
// only cut where the frontier is ONE float tensor read by quantizer gates alone (the tensor an
// activation quantizer switches): exposing it as a graph output then blocks no operator fusion, so
// the full session with the frontier outputs added computes what it computed before, and the
// suffix session, fed the frontier, computes what the full session computes — bit for bit (checked
// on the zoo models in tests). Data-independent nodes (nothing reads the data input upstream) are
// recomputed in the suffix whenever it needs them.
import { DataType, cloneModel, type ModelProto, type NodeProto } from '../onnx/proto';
import type { SwitchLayout } from './switchable';
import { valueInfo } from './qdq-common';

/** Cuts per switchable graph at most (one suffix session each, when used). */
export const MAX_PREFIX_CUTS = 12;

export interface PrefixCut {
  /** Prefix = nodes [0, position) of the switchable graph. */
  position: number;
  /** The frontier tensor (batch dim first). */
  tensor: string;
  /** Share of the data-dependent nodes that are in the prefix (0..1), what a resume skips. */
  share: number;
}

export interface PrefixPlan {
  /** The switchable model with each cut's frontier tensor added as a graph output. */
  model: ModelProto;
  cuts: PrefixCut[];
  /** Graph input → position of the first node that reads it (directly or inside a sub-graph). */
  firstRead: Map<string, number>;
}

/** Names a node reads: its inputs and, for If/Loop/Scan, the outer-scope names its sub-graphs read. */
export function nodeReads(n: NodeProto): string[] {
  const out = (n.input ?? []).filter(Boolean);
  for (const a of n.attribute ?? []) {
    for (const g of [a.g, ...(a.graphs ?? [])]) {
      if (!g) continue;
      const inner = new Set<string>([...(g.initializer ?? []).map((t) => t.name ?? ''), ...(g.input ?? []).map((v) => v.name ?? '')]);
      for (const m of g.node ?? []) {
        for (const r of nodeReads(m)) if (!inner.has(r)) out.push(r);
        for (const o of m.output ?? []) inner.add(o);
      }
      for (const o of g.output ?? []) if (o.name && !inner.has(o.name)) out.push(o.name);
    }
  }
  return [...new Set(out)];
}

/**
 * Cut positions of a switchable `model` (its node list in topological order, as built), at most
 * `maxCuts`, spread evenly over the data-dependent nodes. Returns null when there is no cut.
 */
export function planPrefixCuts(
  model: ModelProto,
  layout: SwitchLayout,
  inputName: string,
  outputName: string,
  sampleShape: number[],
  maxCuts = MAX_PREFIX_CUTS,
): PrefixPlan | null {
  const nodes = model.graph?.node ?? [];
  const reads = nodes.map(nodeReads);
  const gateNodes = new Set<number>();
  const gatedOutputs = new Set(layout.activations.map((e) => e.output));
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => gatedOutputs.has(o) && gateNodes.add(i)));

  // data dependence, tensor births and deaths
  const dataDep = new Set<string>([inputName]);
  const depNode = nodes.map(() => false);
  const birth = new Map<string, number>([[inputName, -1]]);
  const death = new Map<string, number>();
  const readers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const r of reads[i]) {
      death.set(r, i);
      readers.set(r, [...(readers.get(r) ?? []), i]);
    }
    if (reads[i].some((r) => dataDep.has(r))) {
      depNode[i] = true;
      for (const o of n.output ?? []) if (o) (dataDep.add(o), birth.set(o, i));
    }
  });
  const firstRead = new Map<string, number>();
  reads.forEach((rs, i) => rs.forEach((r) => firstRead.has(r) || firstRead.set(r, i)));
  const cost = nodeCosts(nodes, layout, inputName, sampleShape);
  const depTotal = cost.reduce((a, c, i) => a + (depNode[i] ? c : 0), 0);
  if (!depTotal) return null;
  // an activation quantizer's tensor: float (checked when the switchable graph was built)
  const gatedTensors = new Set(layout.activations.map((e) => e.tensor));

  // A frontier of exactly one tensor: count the live data-dependent tensors at each position.
  const live = new Array<number>(nodes.length + 1).fill(0);
  for (const t of dataDep) {
    const b = birth.get(t)!;
    const d = death.get(t);
    if (d === undefined) continue; // a graph output only
    for (let p = b + 1; p <= d; p++) live[p]++;
  }
  const candidates: PrefixCut[] = [];
  let depBefore = 0;
  for (let p = 1; p < nodes.length; p++) {
    if (depNode[p - 1]) depBefore += cost[p - 1];
    if (!depNode[p - 1] || live[p] !== 1) continue;
    const tensor = (nodes[p - 1].output ?? []).find((o) => o && dataDep.has(o) && (death.get(o) ?? -1) >= p);
    if (!tensor || tensor === outputName || !gatedTensors.has(tensor)) continue;
    if (!(readers.get(tensor) ?? []).every((r) => gateNodes.has(r))) continue;
    candidates.push({ position: p, tensor, share: depBefore / depTotal });
  }
  if (!candidates.length) return null;
  // Pick cuts so that the candidates (one per gated tensor, roughly one per group) skip the most:
  // greedily add the cut that most raises Σ over candidates of the share of the deepest cut
  // at or before it.
  const cuts: PrefixCut[] = [];
  const gain = (set: PrefixCut[]) => candidates.reduce((sum, c) => sum + Math.max(0, ...set.filter((k) => k.position <= c.position).map((k) => k.share)), 0);
  while (cuts.length < Math.min(maxCuts, candidates.length)) {
    let best: PrefixCut | undefined;
    let bestGain = gain(cuts);
    for (const c of candidates) {
      if (cuts.includes(c)) continue;
      const v = gain([...cuts, c]);
      if (v > bestGain + 1e-9) ((best = c), (bestGain = v));
    }
    if (!best) break;
    cuts.push(best);
  }
  cuts.sort((a, b) => a.position - b.position);
  const out = cloneModel(model);
  out.graph!.output = [...(out.graph!.output ?? []), ...cuts.map((c) => valueInfo(c.tensor, DataType.FLOAT))];
  return { model: out, cuts, firstRead };
}

/** Multiply-adds one element-wise operation on one activation element is taken to cost (they are
 *  memory-bound; on PaddleOCR's hard-swish blocks they take as long as the convolutions). */
const ELEMENTWISE_MACS = 8;

/**
 * Rough cost per node for one sample: multiply-adds of Conv (weight elements × output pixels,
 * pixels followed through strides from the sample's spatial size), Gemm and MatMul (weight
 * elements), and ELEMENTWISE_MACS per output element of the other nodes (elements = pixels ×
 * channels, channels taken from the weights). Only the ratios matter (where to cut).
 */
function nodeCosts(nodes: NodeProto[], layout: SwitchLayout, inputName: string, sampleShape: number[]): number[] {
  const dims = new Map<string, number[]>();
  for (const o of layout.overridable) dims.set(o.name, o.dims);
  const pixels = new Map<string, number>([[inputName, sampleShape.slice(1).reduce((a, b) => a * b, 1) || 1]]);
  const channels = new Map<string, number>([[inputName, sampleShape[0] || 1]]);
  const ints = (n: NodeProto, name: string) => (n.attribute ?? []).find((a) => a.name === name)?.ints?.map(Number);
  const size = (d: number[] | undefined) => (d ? d.reduce((a, b) => a * b, 1) : 0);
  return nodes.map((n) => {
    const ins = n.input ?? [];
    const reads = nodeReads(n); // an If gate reads its tensor from inside its branches
    const inPix = Math.max(0, ...reads.map((i) => pixels.get(i) ?? 0));
    const inCh = Math.max(0, ...reads.map((i) => channels.get(i) ?? 0));
    if (!inPix) return 1; // not on the data path
    let outPix = inPix;
    let outCh = inCh;
    let macs = 0;
    const op = n.opType ?? '';
    const w = dims.get(ins[1] ?? '');
    if (op === 'Conv' || op === 'MaxPool' || op === 'AveragePool' || op === 'ConvTranspose') {
      const stride = (ints(n, 'strides') ?? []).reduce((a, b) => a * b, 1);
      outPix = op === 'ConvTranspose' ? inPix * stride : Math.max(1, inPix / stride);
      if (w && op === 'Conv') ((macs = size(w) * outPix), (outCh = w[0]));
      if (w && op === 'ConvTranspose') ((macs = size(w) * inPix), (outCh = w[1]));
    } else if (op.startsWith('Global')) outPix = 1;
    else if ((op === 'Gemm' || op === 'MatMul') && w) {
      macs = size(w);
      outPix = 1;
      outCh = op === 'Gemm' && (n.attribute ?? []).some((a) => a.name === 'transB' && Number(a.i) === 1) ? w[0] : w[w.length - 1];
    }
    for (const o of n.output ?? []) (pixels.set(o, outPix), channels.set(o, outCh));
    return macs || ELEMENTWISE_MACS * outPix * Math.max(1, outCh);
  });
}

/**
 * The suffix model of `cut`: input = the frontier tensor plus the graph inputs the suffix reads,
 * nodes = the suffix's data-dependent nodes and the data-independent ones they need, output =
 * `outputName`. `model` is the plan's model (node order unchanged).
 */
export function suffixModel(model: ModelProto, cut: PrefixCut, inputName: string, outputName: string): { model: ModelProto; inputs: string[] } {
  const out = cloneModel(model);
  const g = out.graph!;
  const nodes = g.node ?? [];
  const reads = nodes.map(nodeReads);
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && producer.set(o, i)));
  // walk back from the output, stopping at the frontier tensor
  const keep = new Set<number>();
  const stack = [outputName];
  const seen = new Set<string>();
  const graphInputs = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t === cut.tensor) continue;
    const p = producer.get(t);
    if (p === undefined) {
      graphInputs.add(t);
      continue;
    }
    if (p < cut.position && reachesData(p)) throw new Error(`prefix cut at '${cut.tensor}': suffix reads '${t}' made before the cut`);
    keep.add(p);
    stack.push(...reads[p]);
  }
  function reachesData(i: number): boolean {
    const todo = [...reads[i]];
    const visited = new Set<string>();
    while (todo.length) {
      const t = todo.pop()!;
      if (t === inputName) return true;
      if (visited.has(t)) continue;
      visited.add(t);
      const q = producer.get(t);
      if (q !== undefined) todo.push(...reads[q]);
    }
    return false;
  }
  if (graphInputs.has(inputName)) throw new Error(`prefix cut at '${cut.tensor}': the suffix reads the data input`);
  g.node = nodes.filter((_, i) => keep.has(i));
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  g.initializer = (g.initializer ?? []).filter((t) => graphInputs.has(t.name ?? ''));
  const declared = (g.input ?? []).filter((v) => graphInputs.has(v.name ?? '') && !inits.has(v.name ?? ''));
  g.input = [valueInfo(cut.tensor, DataType.FLOAT), ...declared];
  g.output = (g.output ?? []).filter((v) => v.name === outputName);
  const names = new Set([...seen]);
  g.valueInfo = (g.valueInfo ?? []).filter((v) => names.has(v.name ?? '') && v.name !== cut.tensor);
  return { model: out, inputs: [cut.tensor, ...declared.map((v) => v.name ?? '')] };
}
