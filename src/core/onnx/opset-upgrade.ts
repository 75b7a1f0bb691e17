// Raise a model's default-domain opset (to 13 at most: what per-axis QuantizeLinear /
// DequantizeLinear need), converting the nodes whose operator signature or semantics changed on
// the way: attributes that became inputs (Clip, Slice, TopK, Pad, Squeeze/Unsqueeze, Split,
// ReduceSum), Upsample → Resize, Resize-10 → Resize-13, Scatter → ScatterElements, Dropout,
// BatchNormalization `spatial`, the Softmax family's 2-D coercion (13). Changes that only widen the
// type lists or add attributes with backward-compatible defaults need nothing. Anything else is
// refused with a QuantizeError naming the node and the op.
import { QuantizeError } from '../types';
import { attrFloat, attrInt, attrInts, attrString, findAttr } from './attributes';
import { elementTypes } from './elem-types';
import { GraphIndex } from './graph';
import { AttrType, DataType, cloneModel, onnx, opsetVersion, setOpsetVersion, toNum, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto';
import { makeTensor, readTensor, toFloat32 } from './tensor';

/** Highest opset this converter reaches. */
export const MAX_UPGRADE_OPSET = 13;

/**
 * Versions (8…13) at which each default-domain operator's schema changed. An operator missing
 * here did not change in that range. Versions where an operator first appears are listed too:
 * a model of an older opset cannot use it, so they need nothing.
 */
const CHANGED: Record<string, number[]> = {};
const addVersion = (v: number, ops: string) => {
  for (const op of ops.split(/\s+/).filter(Boolean)) (CHANGED[op] ??= []).push(v);
};
addVersion(8, 'Expand Max Min Sum Mean MaxPool Scan');
addVersion(
  9,
  `BatchNormalization Compress ConstantOfShape EyeLike Greater Less Upsample MaxUnpool Constant MatMul OneHot
  PRelu Gemm Flatten Sinh Cosh Asinh Acosh Atanh Shrink IsNaN Sign Scan Erf Scatter Where Cast NonZero TfIdfVectorizer
  MeanVarianceNormalization`,
);
addVersion(
  10,
  `StringNormalizer Upsample Resize TopK MaxPool Mod AveragePool Slice ThresholdedRelu Dropout MatMulInteger
  QLinearMatMul ConvInteger QLinearConv QuantizeLinear DequantizeLinear IsInf NonMaxSuppression ReverseSequence RoiAlign`,
);
addVersion(
  11,
  `Loop CumSum Round BitShift Unique TopK DepthToSpace Equal Constant DynamicQuantizeLinear GatherElements
  ScatterElements Scatter Clip Resize Range Det ScatterND GatherND Gather OneHot Slice Squeeze Unsqueeze Flatten ArgMax
  ArgMin ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
  ReduceSumSquare Compress Concat Hardmax LogSoftmax Softmax Scan Split AveragePool MaxPool MaxUnpool LpPool Conv
  ConvTranspose SequenceEmpty SequenceConstruct SequenceInsert SequenceAt SequenceErase SequenceLength SplitToSequence
  ConcatFromSequence Pad Gemm If NonMaxSuppression`,
);
addVersion(
  12,
  `ArgMax ArgMin Clip Einsum MaxPool ReduceMax ReduceMin GatherND NegativeLogLikelihoodLoss Dropout Constant
  Celu Max Min LessOrEqual GreaterOrEqual SoftmaxCrossEntropyLoss Pow`,
);
addVersion(
  13,
  `Constant Greater Less Equal Add Sub Mul Div Softmax LogSoftmax Hardmax Mod Neg Abs Reciprocal Floor Ceil
  Sqrt Relu Exp Log Tanh Pow Sigmoid Max Min Sum Mean Clip Gemm MatMul Expand Sign Erf SoftmaxCrossEntropyLoss
  NegativeLogLikelihoodLoss Dropout Flatten LRN MeanVarianceNormalization ReduceMax ReduceMin ReduceSum ReduceSumSquare
  ReduceMean ReduceProd ReduceLogSum ReduceLogSumExp ReduceL1 ReduceL2 ArgMax ArgMin Cast Reshape Shape Size Concat
  Split Slice Transpose ScatterND ScatterElements Gather GatherElements Squeeze Unsqueeze SpaceToDepth DepthToSpace Tile
  Resize Identity IsNaN NonZero GatherND Pad QuantizeLinear DequantizeLinear Loop If`,
);

/** Experimental operators of early opsets that no longer exist in the default domain. */
const REMOVED = new Set(['ATen', 'Affine', 'ConstantFill', 'Crop', 'DynamicSlice', 'GRUUnit', 'GivenTensorFill', 'ImageScaler', 'ParametricSoftplus', 'Scale', 'ScaledTanh']);

export interface UpgradeReport {
  from: number;
  to: number;
  /** One line per converted node: `name (op): what was done`. */
  converted: string[];
}

/** Returns an upgraded copy of `input` (or a plain copy when it is already at `target` or above). */
export function upgradeOpset(input: ModelProto, target = MAX_UPGRADE_OPSET): { model: ModelProto; report: UpgradeReport } {
  const from = opsetVersion(input);
  if (target > MAX_UPGRADE_OPSET) throw new QuantizeError(`opset conversion reaches opset ${MAX_UPGRADE_OPSET} at most, asked for ${target}`);
  const model = cloneModel(input);
  const report: UpgradeReport = { from, to: Math.max(from, target), converted: [] };
  if (from >= target) return { model, report };
  const up = new Upgrader(model, from, target, report);
  up.graph(model.graph!);
  setOpsetVersion(model, target);
  if (toNum(model.irVersion) < 7) model.irVersion = 7; // opset 13 came with IR version 7
  return { model, report };
}

class Upgrader {
  private readonly idx: GraphIndex;
  private readonly names = new Set<string>();
  private readonly newInits: TensorProto[] = [];
  private readonly usedAnywhere = new Set<string>();
  private types?: Map<string, number>;

  constructor(
    private readonly model: ModelProto,
    private readonly from: number,
    private readonly target: number,
    private readonly report: UpgradeReport,
  ) {
    this.idx = new GraphIndex(model);
    const collect = (g: GraphProto) => {
      for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) this.names.add(v.name ?? '');
      for (const t of g.initializer ?? []) this.names.add(t.name ?? '');
      for (const n of g.node ?? []) {
        this.names.add(n.name ?? '');
        for (const o of n.output ?? []) this.names.add(o);
        for (const i of n.input ?? []) this.usedAnywhere.add(i);
        for (const a of n.attribute ?? []) for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) collect(sg);
      }
      for (const o of g.output ?? []) this.usedAnywhere.add(o.name ?? '');
    };
    collect(model.graph!);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  private constant(base: string, t: (name: string) => TensorProto): string {
    const name = this.fresh(base);
    this.newInits.push(t(name));
    return name;
  }

  private int64s(base: string, values: (number | bigint)[]): string {
    return this.constant(base, (n) => makeTensor(n, 'int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v)))));
  }

  graph(g: GraphProto): void {
    const out: NodeProto[] = [];
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) this.graph(sg);
      if (n.domain && n.domain !== 'ai.onnx') {
        out.push(n);
        continue;
      }
      out.push(...this.node(n));
    }
    g.node = out;
    if (g === this.model.graph) this.model.graph!.initializer = [...(this.model.graph!.initializer ?? []), ...this.newInits];
  }

  private refuse(n: NodeProto, why: string): never {
    throw new QuantizeError(`cannot convert node '${n.name ?? ''}' (${n.opType}) from opset ${this.from} to ${this.target}: ${why}`, { field: `node ${n.name ?? ''}` });
  }

  private note(n: NodeProto, what: string, op = n.opType): void {
    this.report.converted.push(`${n.name ?? ''} (${op}): ${what}`);
  }

  /** The node(s) replacing `n` at the target opset. */
  private node(n: NodeProto): NodeProto[] {
    const op = n.opType ?? '';
    if (REMOVED.has(op)) this.refuse(n, `${op} was an experimental operator and no longer exists in opset ${this.target}`);
    if (op === 'Upsample') return [this.upsample(n)];
    const steps = (CHANGED[op] ?? []).filter((v) => v > this.from && v <= this.target);
    let nodes = [n];
    for (const v of steps) {
      const handler = this.handlers[`${op}@${v}`];
      if (handler) nodes = handler(n, nodes);
    }
    return nodes;
  }

  private removeAttr(n: NodeProto, name: string): void {
    n.attribute = (n.attribute ?? []).filter((a) => a.name !== name);
  }

  private setString(n: NodeProto, name: string, value: string): void {
    this.removeAttr(n, name);
    n.attribute = [...(n.attribute ?? []), onnx.AttributeProto.create({ name, type: AttrType.STRING, s: new TextEncoder().encode(value) })];
  }

  private setInt(n: NodeProto, name: string, value: number): void {
    this.removeAttr(n, name);
    n.attribute = [...(n.attribute ?? []), onnx.AttributeProto.create({ name, type: AttrType.INT, i: value })];
  }

  /** Moves an INTS attribute into input `index` (padding skipped optional inputs with ''). */
  private intsToInput(n: NodeProto, attr: string, index: number, required = false): boolean {
    const v = intsExact(n, attr);
    this.removeAttr(n, attr);
    if (v === undefined) {
      if (required) this.refuse(n, `attribute '${attr}' is missing`);
      return false;
    }
    const inputs = [...(n.input ?? [])];
    while (inputs.length < index) inputs.push('');
    inputs[index] = this.int64s(`${n.name || n.opType}_${attr}`, v);
    n.input = inputs;
    return true;
  }

  /** A scalar initializer of the element type of `tensor` (float32 when it cannot be told). */
  private scalarLike(n: NodeProto, tensor: string, base: string, value: number): string {
    const type = (this.types ??= elementTypes(this.idx)).get(tensor) || DataType.FLOAT;
    return this.constant(base, (name) => {
      switch (type) {
        case DataType.FLOAT:
          return makeTensor(name, 'float32', [], [value]);
        case DataType.DOUBLE:
          return makeTensor(name, 'float64', [], [value]);
        case DataType.FLOAT16:
          return makeTensor(name, 'float16', [], [floatToHalf(value)]);
        default:
          return this.refuse(n, `input '${tensor}' has element type ${type}, expected a float type`);
      }
    });
  }

  private outputUsed(name: string | undefined): boolean {
    return !!name && this.usedAnywhere.has(name);
  }

  private readonly handlers: Record<string, (n: NodeProto, nodes: NodeProto[]) => NodeProto[]> = {
    'Scan@9': (n) => this.refuse(n, 'Scan-8 (batched, with sequence_lens) has different semantics from Scan-9'),
    'BatchNormalization@9': (n, nodes) => {
      const spatial = findAttr(n, 'spatial');
      if (spatial && toNum(spatial.i) !== 1) this.refuse(n, 'spatial=0 (per-activation statistics) no longer exists');
      if (spatial) {
        this.removeAttr(n, 'spatial');
        this.note(n, 'dropped spatial=1');
      }
      if ((n.output ?? []).filter(Boolean).length > 1) this.refuse(n, 'training-mode outputs (mean, var, saved mean/var) are not converted');
      return nodes;
    },
    'Dropout@10': (n, nodes) => this.dropout(n, nodes),
    'Dropout@12': (n, nodes) => this.dropout(n, nodes),
    'TopK@10': (n, nodes) => {
      const k = findAttr(n, 'k');
      if (!k) this.refuse(n, "attribute 'k' is missing");
      this.removeAttr(n, 'k');
      n.input = [n.input![0], this.int64s(`${n.name || 'TopK'}_k`, [toNum(k.i)])];
      this.note(n, 'k attribute → input');
      return nodes;
    },
    'Slice@10': (n, nodes) => {
      const axes = attrInts(n, 'axes');
      this.intsToInput(n, 'starts', 1, true);
      this.intsToInput(n, 'ends', 2, true);
      if (axes) this.intsToInput(n, 'axes', 3);
      this.note(n, 'starts/ends/axes attributes → inputs');
      return nodes;
    },
    'Scatter@11': (n, nodes) => {
      n.opType = 'ScatterElements';
      this.note(n, 'Scatter → ScatterElements', 'Scatter');
      return nodes;
    },
    'Clip@11': (n, nodes) => {
      const lo = findAttr(n, 'min');
      const hi = findAttr(n, 'max');
      this.removeAttr(n, 'min');
      this.removeAttr(n, 'max');
      const x = n.input![0];
      const inputs = [x, lo ? this.scalarLike(n, x, `${n.name || 'Clip'}_min`, lo.f ?? 0) : ''];
      if (hi) inputs.push(this.scalarLike(n, x, `${n.name || 'Clip'}_max`, hi.f ?? 0));
      n.input = inputs[1] === '' && inputs.length === 2 ? [x] : inputs;
      this.note(n, 'min/max attributes → inputs');
      return nodes;
    },
    'Pad@11': (n, nodes) => {
      const mode = attrString(n, 'mode') ?? 'constant';
      const value = attrFloat(n, 'value', 0);
      this.removeAttr(n, 'value');
      this.intsToInput(n, 'pads', 1, true);
      if (mode === 'constant' && value !== 0) n.input = [...n.input!, this.scalarLike(n, n.input![0], `${n.name || 'Pad'}_value`, value)];
      this.note(n, 'pads/value attributes → inputs');
      return nodes;
    },
    'Resize@11': (n, nodes) => this.resize10(n, nodes),
    'Resize@13': (n, nodes) => {
      if (attrString(n, 'coordinate_transformation_mode') === 'tf_half_pixel_for_nn')
        this.refuse(n, "coordinate_transformation_mode 'tf_half_pixel_for_nn' was removed in opset 13");
      const inputs = [...(n.input ?? [])];
      if (inputs[3] && inputs[2]) {
        inputs[2] = ''; // opset 11/12 asked for an empty scales tensor next to sizes; 13 omits it
        n.input = inputs;
        this.note(n, 'empty scales → omitted');
      }
      return nodes;
    },
    'Squeeze@13': (n, nodes) => {
      if (this.intsToInput(n, 'axes', 1)) this.note(n, 'axes attribute → input');
      return nodes;
    },
    'Unsqueeze@13': (n, nodes) => {
      this.intsToInput(n, 'axes', 1, true);
      this.note(n, 'axes attribute → input');
      return nodes;
    },
    'ReduceSum@13': (n, nodes) => {
      if (this.intsToInput(n, 'axes', 1)) this.note(n, 'axes attribute → input');
      return nodes;
    },
    'Split@13': (n, nodes) => {
      if (this.intsToInput(n, 'split', 1)) this.note(n, 'split attribute → input');
      return nodes;
    },
    'Softmax@13': (n, nodes) => this.softmax(n, nodes),
    'LogSoftmax@13': (n, nodes) => this.softmax(n, nodes),
    'Hardmax@13': (n, nodes) => this.softmax(n, nodes),
  };

  private dropout(n: NodeProto, nodes: NodeProto[]): NodeProto[] {
    if (n.opType === 'Identity') return nodes; // already converted at an earlier step
    const mask = n.output?.[1];
    if (!this.outputUsed(mask)) {
      n.opType = 'Identity';
      n.attribute = [];
      n.input = [n.input![0]];
      n.output = [n.output![0]];
      this.note(n, 'Dropout (inference) → Identity', 'Dropout');
      return nodes;
    }
    if (this.from < 10) this.refuse(n, `its mask output '${mask}' is used, and its type changed from T to bool in opset 10`);
    this.removeAttr(n, 'ratio'); // only matters in training mode, which is off by default
    this.note(n, 'ratio attribute dropped (inference)');
    return nodes;
  }

  private softmax(n: NodeProto, nodes: NodeProto[]): NodeProto[] {
    let axis = attrInt(n, 'axis', 1);
    const x = n.input![0];
    const rank = this.idx.shapeOf(x)?.length;
    if (rank !== undefined && axis < 0) axis += rank;
    if (rank !== undefined && axis === rank - 1) {
      this.setInt(n, 'axis', -1);
      this.note(n, 'axis kept (last axis)');
      return nodes;
    }
    // Before 13 the input was coerced to 2-D at `axis`: Flatten(axis) → op(axis=-1) → Reshape(shape).
    const base = n.name || n.opType || 'Softmax';
    const shape = this.fresh(`${base}_shape`);
    const flat = this.fresh(`${base}_flat`);
    const y = n.output![0];
    const inner = this.fresh(`${y}_2d`);
    const shapeNode = onnx.NodeProto.create({ name: this.fresh(`${base}_Shape`), opType: 'Shape', input: [x], output: [shape] });
    const flatten = onnx.NodeProto.create({
      name: this.fresh(`${base}_Flatten`),
      opType: 'Flatten',
      input: [x],
      output: [flat],
      attribute: [{ name: 'axis', type: AttrType.INT, i: attrInt(n, 'axis', 1) }],
    });
    n.input = [flat];
    n.output = [inner];
    this.setInt(n, 'axis', -1);
    const reshape = onnx.NodeProto.create({ name: this.fresh(`${base}_Reshape`), opType: 'Reshape', input: [inner, shape], output: [y] });
    this.note(n, 'coerced-2D semantics kept with Flatten/Reshape');
    const i = nodes.indexOf(n);
    return [...nodes.slice(0, i), shapeNode, flatten, n, reshape, ...nodes.slice(i + 1)];
  }

  /** Upsample (7: scales attribute; 9: scales input) → Resize-13 with Upsample's coordinate mapping. */
  private upsample(n: NodeProto): NodeProto {
    const mode = (attrString(n, 'mode') ?? 'nearest').toLowerCase();
    let scales: string;
    if (this.from < 9) {
      const s = findAttr(n, 'scales')?.floats;
      if (!s) this.refuse(n, "attribute 'scales' is missing");
      scales = this.constant(`${n.name || 'Upsample'}_scales`, (name) => makeTensor(name, 'float32', [s.length], s));
    } else scales = n.input?.[1] ?? '';
    if (!scales) this.refuse(n, 'no scales');
    const r = onnx.NodeProto.create({ name: n.name, opType: 'Resize', input: [n.input![0], '', scales], output: n.output, domain: n.domain });
    this.setResizeMode(n, r, mode, 'floor'); // Upsample scales are ≥ 1: nearest takes floor(x / scale)
    this.note(n, 'Upsample → Resize (asymmetric)');
    return r;
  }

  /** Resize-10 (X, scales) → Resize-13 (X, roi, scales) keeping Resize-10's asymmetric mapping. */
  private resize10(n: NodeProto, nodes: NodeProto[]): NodeProto[] {
    const mode = (attrString(n, 'mode') ?? 'nearest').toLowerCase();
    const scales = n.input?.[1] ?? '';
    let nearest = 'floor';
    if (mode === 'nearest') {
      // onnxruntime's Resize-10 nearest truncates when upsampling and takes the ceiling when downsampling.
      const init = this.idx.initializers.get(scales);
      if (!init) this.refuse(n, 'nearest mode with scales computed at run time (rounding depends on them)');
      const s = toFloat32(readTensor(init));
      const up = Array.from(s).some((v) => v > 1);
      const down = Array.from(s).some((v) => v < 1);
      if (up && down) this.refuse(n, 'nearest mode that upsamples some axes and downsamples others');
      nearest = down ? 'ceil' : 'floor';
    }
    n.input = [n.input![0], '', scales];
    this.setResizeMode(n, n, mode, nearest);
    this.note(n, 'Resize-10 → Resize-13 (asymmetric)');
    return nodes;
  }

  private setResizeMode(src: NodeProto, dst: NodeProto, mode: string, nearest: string): void {
    if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') this.refuse(src, `mode '${mode}'`);
    dst.attribute = [];
    this.setString(dst, 'mode', mode === 'nearest' ? 'nearest' : 'linear');
    this.setString(dst, 'coordinate_transformation_mode', 'asymmetric');
    if (mode === 'nearest') this.setString(dst, 'nearest_mode', nearest);
  }
}

/** An INTS attribute as exact 64-bit integers (Slice's INT64_MAX "to the end" survives). */
function intsExact(n: NodeProto, name: string): bigint[] | undefined {
  const a = findAttr(n, name);
  if (!a) return undefined;
  return (a.ints ?? []).map((v) => BigInt(typeof v === 'number' ? v : String(v)));
}

/** float → IEEE half bits, round to nearest even. */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
