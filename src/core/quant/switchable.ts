// The switchable fake-quant graph: the model rewritten ONCE so that every activation quantizer can
// be turned on/off and given a new grid through runtime inputs (no new inference session per
// candidate configuration), and every weight (and corrected bias) can be overridden by a feed.
//
// For an activation quantizer i on tensor T the graph gets inputs `aaq.<i>.*` and computes
//   T__aaq<i> = Where(aaq.<i>.on, fq(T), T)     (opset < 9, no Where: If(on) then fq(T) else T)
// and exactly the consumers listed in the spec read T__aaq<i>. fq is one of
//   'float': scale · Max(Min(RHE(T / scale), hi), lo), RHE = round half to even built from Floor,
//            lo = qmin − zp, hi = qmax − zp fed as inputs. Only Div/Mul/Add/Sub/Floor/Min/Max/
//            Greater/Equal/Less/Cast/Where: every op stays on the WebGPU EP.
//   'qdq':   DequantizeLinear(QuantizeLinear(T, scale, zp_u8), scale, zp_u8). An int8 grid
//            [−128, 127] with zero point z is fed as uint8 with z + 128 (same values), so one graph
//            serves signed and unsigned grids. Per-channel needs opset 13 (per-axis Q/DQ): such
//            quantizers in older models, and all quantizers below opset 10, use the float form.
// Both compute exactly what QuantizeLinear→DequantizeLinear computes (x / scale in float32, ties
// to even), so the flavors agree bit for bit. Weights are not rewritten: the initializers named in
// `overridable` become graph inputs, fed by makeFeeds with the fake-quantized values when given and
// the FP32 values otherwise. (They cannot stay initializers listed in graph.input: onnxruntime-node
// lets a feed override those, but onnxruntime-web only accepts feeds for the session's inputNames,
// which leave such initializers out.) With every `on` false and no overrides the outputs are the
// FP32 model's, exactly — under EXACT_SESSION_OPTIONS for both sessions.
import { GraphIndex } from '../onnx/graph';
import { AttrType, DataType, cloneModel, onnx, opsetVersion, type ModelProto, type NodeProto, type ValueInfoProto } from '../onnx/proto';
import { makeTensor, numel, readTensor } from '../onnx/tensor';
import { QuantizeError, type QuantizerParams, type QuantizerSpec, type TensorData } from '../types';
import { Names, channelCount, checkFloatTensor, gridArrays, insertChains, node, rewire, tensorRank, valueInfo } from './qdq-common';
import { elementTypes } from '../onnx/elem-types';

export type SwitchFlavor = 'float' | 'qdq';

export interface SwitchEntry {
  /** Quantizer id (`a:<tensor>`). */
  id: string;
  /** The `<i>` of the `aaq.<i>.` input names. */
  index: number;
  tensor: string;
  /** Name of the gated output (`<tensor>__aaq<i>`) that the spec's consumers read. */
  output: string;
  /** How fq is built for this quantizer (a 'qdq' graph falls back to 'float' where Q/DQ cannot). */
  kind: 'float' | 'qdq';
  /** How `on` (a bool scalar input) selects: Where, or If below opset 9 (no Where there). */
  gate: 'where' | 'if';
  perChannel: boolean;
  /** Grid values per input (1 for per-tensor). */
  channels: number;
  /** Dims of the grid inputs: [] per tensor; [1, C, 1, …] (float) or [C] (qdq) per channel. */
  gridDims: number[];
  inputs: { on: string; scale: string; lo?: string; hi?: string; zp?: string };
}

export interface SwitchLayout {
  flavor: SwitchFlavor;
  opset: number;
  activations: SwitchEntry[];
  /** Initializers that became graph inputs, with their dims and FP32 values (fed when not overridden). */
  overridable: { name: string; dims: number[]; fp32: Float32Array }[];
}

export interface SwitchOptions {
  flavor: SwitchFlavor;
  /** Initializer names (quantized weights, corrected biases) that become overridable graph inputs. */
  overridable: string[];
  /** How `on` selects (default: Where from opset 9, If below). If runs only the selected branch:
   *  fq's nodes live in its then-branch. */
  gate?: 'where' | 'if';
  /** With gate 'if': use Where instead for tensors known to have at most this many elements per sample. */
  whereBelow?: number;
}

const WIDE = 3.0e38;

/**
 * onnxruntime session options under which a switchable session with every quantizer off gives
 * the FP32 model's outputs bit for bit, provided the FP32 session uses them too. At the default
 * level 'all' the CPU EP's layout transformer (NCHWc) and Conv+Add(+activation) fusions apply to
 * the FP32 graph but not across the inserted Where nodes, and constant weights are pre-packed for
 * MLAS while overridable ones are not: all change the float summation order (|Δ| ≈ 1e-6 on the
 * zoo models). 'extended' without pre-packing keeps both graphs on the same kernels.
 */
export const EXACT_SESSION_OPTIONS = {
  graphOptimizationLevel: 'extended',
  extra: { session: { disable_prepacking: '1' } },
} as const;

export function buildSwitchableModel(model: ModelProto, specs: QuantizerSpec[], opts: SwitchOptions): { model: ModelProto; layout: SwitchLayout } {
  const out = cloneModel(model);
  const g = out.graph!;
  const idx = new GraphIndex(out);
  const names = new Names(g);
  const types = elementTypes(idx);
  const opset = opsetVersion(out);
  const layout: SwitchLayout = { flavor: opts.flavor, opset, activations: [], overridable: [] };
  const chains = new Map<string, NodeProto[]>();
  const inputs: ValueInfoProto[] = [];
  const consts = new Map<string, string>();
  const constant = (key: string, value: number): string => {
    let name = consts.get(key);
    if (!name) {
      name = names.claim(`aaq.c.${key}`);
      g.initializer = [...(g.initializer ?? []), makeTensor(name, 'float32', [], [value])];
      consts.set(key, name);
    }
    return name;
  };
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.kind !== 'activation') continue;
    if (seen.has(spec.id)) throw new QuantizeError(`quantizer '${spec.id}' is listed twice`, { field: spec.id });
    seen.add(spec.id);
    if (!idx.producer.has(spec.tensor) && !idx.valueInfo.has(spec.tensor) && !idx.initializers.has(spec.tensor)) {
      throw new QuantizeError(`quantizer '${spec.id}': tensor '${spec.tensor}' is not in the model`, { field: spec.tensor });
    }
    checkFloatTensor(types, spec);
    const i = layout.activations.length;
    const p = `aaq.${i}.`;
    const perChannel = spec.granularity === 'perchannel';
    const channels = perChannel ? channelCount(idx, spec) : 1;
    const axis = spec.axis ?? 1;
    const kind: 'float' | 'qdq' = opts.flavor === 'qdq' && opset >= 10 && (!perChannel || opset >= 13) ? 'qdq' : 'float';
    let gate: 'where' | 'if' = opts.gate ?? (opset >= 9 ? 'where' : 'if');
    if (gate === 'if' && opset >= 9 && opts.whereBelow) {
      // A tensor known to be small per sample (an SE block's [N, C, 1, 1]) is cheaper to Where than
      // to If: If costs a sub-graph execution per run, Where a pass over few elements.
      const shape = idx.shapeOf(spec.tensor)?.slice(1);
      if (shape && shape.every((d) => d > 0) && shape.reduce((a, b) => a * b, 1) <= opts.whereBelow) gate = 'where';
    }
    let gridDims: number[] = [];
    if (perChannel && kind === 'qdq') gridDims = [channels];
    else if (perChannel) {
      const rank = tensorRank(idx, spec);
      const a = axis < 0 ? axis + rank : axis;
      gridDims = Array.from({ length: rank }, (_, k) => (k === a ? channels : 1));
    }
    const entry: SwitchEntry = {
      id: spec.id,
      index: i,
      tensor: spec.tensor,
      output: names.claim(`${spec.tensor}__aaq${i}`),
      kind,
      gate,
      perChannel,
      channels,
      gridDims,
      inputs: { on: names.claim(`${p}on`), scale: names.claim(`${p}scale`) },
    };
    inputs.push(valueInfo(entry.inputs.on, DataType.BOOL, []));
    inputs.push(valueInfo(entry.inputs.scale, DataType.FLOAT, gridDims));
    const T = spec.tensor;
    const t = (s: string) => names.claim(`${p}${s}`);
    const nodes: NodeProto[] = [];
    const add = (op: string, ins: string[], outName: string, attrs: Record<string, number> = {}) => {
      nodes.push(node(names.claim(`${p}${op}_${nodes.length}`), op, ins, [outName], attrs));
      return outName;
    };
    let fq: string;
    if (kind === 'qdq') {
      entry.inputs.zp = names.claim(`${p}zp`);
      inputs.push(valueInfo(entry.inputs.zp, DataType.UINT8, gridDims));
      const ax = perChannel ? { axis } : undefined;
      const q = add('QuantizeLinear', [T, entry.inputs.scale, entry.inputs.zp], t('q'), ax);
      fq = add('DequantizeLinear', [q, entry.inputs.scale, entry.inputs.zp], t('dq'), ax);
    } else {
      entry.inputs.lo = names.claim(`${p}lo`);
      entry.inputs.hi = names.claim(`${p}hi`);
      inputs.push(valueInfo(entry.inputs.lo, DataType.FLOAT, gridDims), valueInfo(entry.inputs.hi, DataType.FLOAT, gridDims));
      const half = constant('half', 0.5);
      const two = constant('two', 2);
      const y = add('Div', [T, entry.inputs.scale], t('y'));
      const f = add('Floor', [y], t('f'));
      const d = add('Sub', [y, f], t('d'));
      const gt = add('Cast', [add('Greater', [d, half], t('gt_b'))], t('gt'), { to: DataType.FLOAT });
      let eq: string;
      if (opset >= 11) eq = add('Cast', [add('Equal', [d, half], t('eq_b'))], t('eq'), { to: DataType.FLOAT });
      else {
        // Equal has no float kernel before opset 11: d == 0.5 ⇔ 1 − (d > 0.5) − (d < 0.5)
        const lt = add('Cast', [add('Less', [d, half], t('lt_b'))], t('lt'), { to: DataType.FLOAT });
        const ngt = add('Sub', [constant('one', 1), gt], t('ngt'));
        eq = add('Sub', [ngt, lt], t('eq'));
      }
      // parity of f: f − 2·Floor(f / 2) (0 or 1); ties go to the even neighbour
      const fh = add('Floor', [add('Mul', [f, half], t('fh0'))], t('fh'));
      const parity = add('Sub', [f, add('Mul', [fh, two], t('f2'))], t('par'));
      const r = add('Add', [add('Add', [f, gt], t('r0')), add('Mul', [eq, parity], t('tie'))], t('r'));
      let c: string;
      if (opset >= 8) {
        const mn = add('Min', [r, entry.inputs.hi], t('min'));
        c = add('Max', [mn, entry.inputs.lo], t('c'));
      } else {
        // Min/Max broadcast only from opset 8: min(r, hi) = r − Relu(r − hi), max(m, lo) = m + Relu(lo − m), exact on integers
        const m = add('Sub', [r, add('Relu', [add('Sub', [r, entry.inputs.hi], t('rh'))], t('rhr'))], t('min'));
        c = add('Add', [m, add('Relu', [add('Sub', [entry.inputs.lo, m], t('lm'))], t('lmr'))], t('c'));
      }
      fq = add('Mul', [c, entry.inputs.scale], t('fq'));
    }
    if (gate === 'where') add('Where', [entry.inputs.on, fq, T], entry.output);
    else {
      // If(on) then fq else T: exact both ways (a float blend T + on·(fq − T) is not: T + (fq − T) ≠ fq).
      // From opset 9 fq's nodes move into the then-branch, so a quantizer that is off costs one copy
      // of T (older IR versions cannot reference outer initializers from a branch: fq stays outside).
      const inside = opset >= 9;
      const thenOut = inside ? fq : t('then');
      const fqNodes = inside ? nodes.splice(0) : [node(t('then_Identity'), 'Identity', [fq], [thenOut])];
      const then = onnx.GraphProto.create({ name: t('then_graph'), node: fqNodes, output: [valueInfo(thenOut, DataType.FLOAT)] });
      const elseOut = t('else');
      const other = onnx.GraphProto.create({ name: t('else_graph'), node: [node(t('else_Identity'), 'Identity', [T], [elseOut])], output: [valueInfo(elseOut, DataType.FLOAT)] });
      nodes.push(
        onnx.NodeProto.create({
          name: names.claim(`${p}If`),
          opType: 'If',
          input: [entry.inputs.on],
          output: [entry.output],
          attribute: [
            onnx.AttributeProto.create({ name: 'then_branch', type: AttrType.GRAPH, g: then }),
            onnx.AttributeProto.create({ name: 'else_branch', type: AttrType.GRAPH, g: other }),
          ],
        }),
      );
    }
    chains.set(T, [...(chains.get(T) ?? []), ...nodes]);
    rewire(idx, spec, entry.output);
    layout.activations.push(entry);
  }
  g.node = insertChains(idx, chains);
  const declared = new Set((g.input ?? []).map((v) => v.name ?? ''));
  const moved = new Set<string>();
  for (const name of new Set(opts.overridable)) {
    const init = idx.initializers.get(name);
    if (!init) throw new QuantizeError(`'${name}' is not an initializer of the model, so it cannot become an overridable input`, { field: name });
    if (init.dataType !== DataType.FLOAT) throw new QuantizeError(`initializer '${name}' is not float32, so it cannot be overridden with fake-quantized values`, { field: name });
    const t = readTensor(init);
    if (!declared.has(name)) inputs.push(valueInfo(name, DataType.FLOAT, t.dims));
    layout.overridable.push({ name, dims: t.dims, fp32: t.data as Float32Array });
    moved.add(name);
  }
  g.initializer = (g.initializer ?? []).filter((x) => !moved.has(x.name ?? ''));
  g.input = [...(g.input ?? []), ...inputs];
  return { model: out, layout };
}

/**
 * Feeds for one configuration: every grid/on input of every activation quantizer (disabled ones
 * get a neutral grid: scale 1, wide bounds) and the weight/bias overrides (fake-quantized values
 * by initializer name).
 */
export function makeFeeds(
  layout: SwitchLayout,
  enabled: Set<string>,
  params: Record<string, QuantizerParams>,
  overrides: Record<string, Float32Array>,
): Record<string, TensorData> {
  const feeds: Record<string, TensorData> = {};
  for (const e of layout.activations) {
    const on = enabled.has(e.id);
    const n = e.channels;
    feeds[e.inputs.on] = { type: 'bool', dims: [], data: new Uint8Array([on ? 1 : 0]) };
    let scale: Float32Array = new Float32Array(n).fill(1);
    if (e.kind === 'float') {
      const lo = new Float32Array(n).fill(-WIDE);
      const hi = new Float32Array(n).fill(WIDE);
      if (on) {
        const p = paramsOf(params, e.id);
        const g = gridArrays(e.id, p, n);
        scale = g.scale;
        for (let c = 0; c < n; c++) {
          lo[c] = p.qmin - g.zp[c];
          hi[c] = p.qmax - g.zp[c];
        }
      }
      feeds[e.inputs.lo!] = { type: 'float32', dims: e.gridDims, data: lo };
      feeds[e.inputs.hi!] = { type: 'float32', dims: e.gridDims, data: hi };
    } else {
      const zp = new Uint8Array(n);
      if (on) {
        const p = paramsOf(params, e.id);
        const g = gridArrays(e.id, p, n);
        scale = g.scale;
        const shift = p.qmin === -128 && p.qmax === 127 ? 128 : p.qmin === 0 && p.qmax === 255 ? 0 : undefined;
        if (shift === undefined) {
          throw new QuantizeError(`quantizer '${e.id}': grid [${p.qmin}, ${p.qmax}] is not a full 8-bit grid, which the qdq switchable graph needs`, {
            field: e.id,
            expected: '[-128, 127] or [0, 255] (or use the float flavor)',
          });
        }
        for (let c = 0; c < n; c++) zp[c] = g.zp[c] + shift;
      }
      feeds[e.inputs.zp!] = { type: 'uint8', dims: e.gridDims, data: zp };
    }
    feeds[e.inputs.scale] = { type: 'float32', dims: e.gridDims, data: e.gridDims.length ? scale : Float32Array.of(scale[0]) };
  }
  const known = new Map(layout.overridable.map((o) => [o.name, o.dims]));
  for (const o of layout.overridable) feeds[o.name] = { type: 'float32', dims: o.dims, data: o.fp32 };
  for (const [name, data] of Object.entries(overrides)) {
    const dims = known.get(name);
    if (!dims)
      throw new QuantizeError(`override '${name}' is not an overridable input of the switchable model`, {
        field: name,
        expected: `one of: ${[...known.keys()].join(', ') || '(none)'}`,
      });
    if (data.length !== numel(dims))
      throw new QuantizeError(`override '${name}' has ${data.length} values for shape [${dims}]`, { field: name, expected: `${numel(dims)} values` });
    feeds[name] = { type: 'float32', dims, data };
  }
  return feeds;
}

function paramsOf(params: Record<string, QuantizerParams>, id: string): QuantizerParams {
  const p = params[id];
  if (!p) throw new QuantizeError(`quantizer '${id}' is enabled but has no grid`, { field: id });
  return p;
}
