// The Load screen's analyses, run in the worker: a model summary (what will be quantized, what
// will not and why) and a preview of the data as the model will see it.

import { defaultDqParams } from '../src/core/config/defaults';
import { parsePotConfig } from '../src/core/config/parse';
import { openDataset } from '../src/core/data/dataset';
import { decodeImage } from '../src/core/data/image';
import { elementTypes } from '../src/core/onnx/elem-types';
import { GraphIndex } from '../src/core/onnx/graph';
import { normalizeModel } from '../src/core/onnx/normalize';
import { DataType, decodeModel, opsetVersion, toNum, type ModelProto, type ValueInfoProto } from '../src/core/onnx/proto';
import { GroupFinder } from '../src/core/quant/groups';
import { AGNOSTIC_OPS, isQuantizableOp } from '../src/core/quant/hardware';
import { analyzePlacement } from '../src/core/quant/placement';
import { checkLabels } from './label-check';
import type { DataInput, DataPreview, ModelSummary, PreviewImage, PreviewSample, ValueSummary } from './protocol';
import { memorySource } from './setup';
import { modelInputShape } from '../src/core/run/input-checks';

const TYPE_NAMES: Record<number, string> = {
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.BOOL]: 'bool',
};

function valueSummary(v: ValueInfoProto): ValueSummary {
  const t = v.type?.tensorType;
  const dims = t?.shape?.dim ?? [];
  return {
    name: v.name ?? '',
    type: TYPE_NAMES[t?.elemType ?? 0] ?? `type ${t?.elemType ?? '?'}`,
    shape: dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue != null && toNum(d.dimValue) > 0 ? toNum(d.dimValue) : '?')),
  };
}

export function inspectModel(fileName: string, bytes: Uint8Array): ModelSummary {
  const original = decodeModel(bytes, fileName);
  const { model, report } = normalizeModel(original, fileName);
  const idx = new GraphIndex(model);
  const params = defaultDqParams();
  const placement = analyzePlacement(idx, params);
  const finder = new GroupFinder(idx, placement.quantizers, placement.ops);
  const groups = finder.groups(placement.quantizers.map((q) => q.id));
  const inits = new Set(idx.initializers.keys());
  const g = model.graph!;
  const inputs = (g.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(valueSummary);
  const outputs = (g.output ?? []).map(valueSummary);
  const counts = new Map<string, number>();
  for (const n of idx.nodes) counts.set(n.opType ?? '?', (counts.get(n.opType ?? '?') ?? 0) + 1);
  let parameters = 0;
  for (const t of idx.initializers.values()) parameters += (t.dims ?? []).map(toNum).reduce((a, b) => a * b, 1);
  const limits = modelLimits(model, idx, placement, inputs, outputs);
  const layers = placement.ops.map((name) => ({ name, op: idx.nodes[idx.nodeByName.get(name)!]?.opType ?? '?' }));
  let sampleShape: number[] = [];
  let layout: 'NCHW' | 'NHWC' = 'NCHW';
  try {
    ({ sampleShape, layout } = modelInputShape(model));
  } catch (e) {
    limits.push({ what: `input ${inputs[0]?.name ?? ''}`, reason: (e as Error).message });
  }
  // Classes only from a classifier's output ([N, C], [N, C, 1, 1] or [C]); a feature map has none.
  const out = outputs[0]?.shape ?? [];
  const classifier = out.length === 1 || (out.length >= 2 && out.slice(2).every((d) => d === 1));
  const last = classifier ? out[out.length === 1 ? 0 : 1] : undefined;
  const channels = sampleShape.length === 3 ? (layout === 'NCHW' ? sampleShape[0] : sampleShape[2]) : 0;
  return {
    fileName,
    bytes: bytes.byteLength,
    opset: opsetVersion(original),
    irVersion: toNum(original.irVersion ?? 0),
    producer: [original.producerName, original.producerVersion].filter(Boolean).join(' '),
    inputs,
    outputs,
    nodes: idx.nodes.length,
    parameters,
    opCounts: [...counts].map(([op, count]) => ({ op, count, quantizable: isQuantizableOp(op) })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op)),
    normalize: report,
    layers,
    quantizers: {
      activations: placement.quantizers.filter((q) => q.kind === 'activation').length,
      weights: placement.quantizers.filter((q) => q.kind === 'weight').length,
    },
    groups: groups.length,
    limits,
    sampleShape,
    layout,
    classes: typeof last === 'number' ? last : undefined,
    color: channels === 1 ? 'gray' : 'rgb',
  };
}

function modelLimits(model: ModelProto, idx: GraphIndex, placement: ReturnType<typeof analyzePlacement>, inputs: ValueSummary[], outputs: ValueSummary[]): ModelSummary['limits'] {
  const out: ModelSummary['limits'] = [];
  if (inputs.length > 1)
    out.push({
      what: `inputs ${inputs
        .slice(1)
        .map((i) => i.name)
        .join(', ')}`,
      reason: 'only the first input is fed from the data; the model needs exactly one input',
    });
  if (outputs.length > 1)
    out.push({
      what: `outputs ${outputs
        .slice(1)
        .map((o) => o.name)
        .join(', ')}`,
      reason: 'metrics are computed on the first output only',
    });
  if (inputs[0] && inputs[0].type !== 'float32')
    out.push({ what: `input ${inputs[0].name}`, reason: `is ${inputs[0].type}; only float32 inputs can be fed from images or arrays` });
  const types = elementTypes(idx);
  const stay = new Map<string, number>();
  const inPlacement = new Set(placement.ops);
  for (const n of idx.nodes) {
    const op = n.opType ?? '';
    if (n.domain && n.domain !== 'ai.onnx') {
      out.push({ what: `node ${n.name} (${n.domain}::${op})`, reason: 'custom-domain op: left in FP32' });
      continue;
    }
    if (isQuantizableOp(op) && !inPlacement.has(n.name ?? '') && !placement.ignored.some((i) => i.node === n.name)) {
      const nonFloat = (n.input ?? []).some((t) => t && !idx.isConstant(t) && types.get(t) !== undefined && types.get(t) !== DataType.FLOAT);
      out.push({ what: `node ${n.name} (${op})`, reason: nonFloat ? 'works on non-float tensors: left as is' : 'no float input to quantize: left as is' });
    } else if (!isQuantizableOp(op) && !AGNOSTIC_OPS.has(op)) stay.set(op, (stay.get(op) ?? 0) + 1);
  }
  for (const i of placement.ignored) out.push({ what: `node ${i.node}`, reason: `not quantized: ${i.reason}` });
  for (const [op, count] of stay) out.push({ what: `${count} × ${op}`, reason: 'no INT8 rule for this op (POT CPU rules): runs in FP32 between quantized layers' });
  const dims = idx.shapeOf(idx.inputs[0]) ?? [];
  if (dims.slice(1).some((d) => d < 0)) out.push({ what: `input ${idx.inputs[0]}`, reason: 'has dynamic dimensions: they are taken from the first sample' });
  void model;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Data preview

/** A tensor of one sample ([C,H,W] or [H,W,C]) as an RGBA image, each channel min–max scaled. */
function tensorImage(data: Float32Array, dims: number[], layout: 'NCHW' | 'NHWC'): PreviewImage | undefined {
  if (dims.length !== 3) return undefined;
  const [c, h, w] = layout === 'NCHW' ? dims : [dims[2], dims[0], dims[1]];
  if (c !== 1 && c !== 3) return undefined;
  let lo = Infinity,
    hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let p = 0; p < w * h; p++) {
    for (let k = 0; k < 3; k++) {
      const ch = c === 1 ? 0 : k;
      const v = layout === 'NCHW' ? data[ch * h * w + p] : data[p * c + ch];
      rgba[p * 4 + k] = ((v - lo) / span) * 255;
    }
    rgba[p * 4 + 3] = 255;
  }
  return { width: w, height: h, rgba };
}

function rawImage(bytes: Uint8Array, file: string): PreviewImage | undefined {
  try {
    const img = decodeImage(bytes, file);
    const n = img.width * img.height;
    if (n > 512 * 512) return undefined;
    const rgba = new Uint8ClampedArray(n * 4);
    for (let p = 0; p < n; p++) {
      for (let k = 0; k < 3; k++) rgba[p * 4 + k] = img.data[p * img.channels + (img.channels === 1 ? 0 : k)];
      rgba[p * 4 + 3] = 255;
    }
    return { width: img.width, height: img.height, rgba };
  } catch {
    return undefined;
  }
}

const PREVIEW = 24;

export async function previewData(data: DataInput, configText: string, summary: ModelSummary): Promise<DataPreview> {
  const cfg = parsePotConfig(configText, 'config.json').config;
  const source = await memorySource(data);
  const layout = cfg.engine.dataset.layout ?? summary.layout;
  const ds = await openDataset(source, cfg.engine.dataset, { sampleShape: summary.sampleShape, layout });
  const labelCounts = new Map<number, number>();
  const firstOf = new Map<number, number>();
  for (let i = 0; i < ds.size; i++) {
    // Labels only: images are not decoded here.
    const label = ds.hasLabels ? ds.label(i) : -1;
    labelCounts.set(label, (labelCounts.get(label) ?? 0) + 1);
    if (!firstOf.has(label)) firstOf.set(label, i);
  }
  // One sample per class first, then the next ones, up to PREVIEW.
  const picks = [...firstOf.values()].slice(0, PREVIEW);
  for (let i = 0; picks.length < Math.min(PREVIEW, ds.size); i++) if (!picks.includes(i)) picks.push(i);
  picks.sort((a, b) => a - b);
  const samples: PreviewSample[] = [];
  for (const i of picks) {
    const s = await ds.get(i);
    let lo = Infinity,
      hi = -Infinity,
      sum = 0;
    for (const v of s.input) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
    }
    const file = ds.kind === 'images' ? ds.files[i] : undefined;
    const input = tensorImage(s.input, ds.sampleShape, layout) ?? { width: 1, height: 1, rgba: new Uint8ClampedArray([128, 128, 128, 255]) };
    samples.push({
      index: i,
      label: s.label,
      className: ds.classNames?.[s.label],
      file,
      raw: file ? rawImage(await source.read(file), file) : undefined,
      input,
      stats: { min: lo, max: hi, mean: sum / s.input.length },
    });
  }
  const labels = [...labelCounts.keys()].filter((l) => l >= 0);
  const where = cfg.engine.dataset.labels ? `${cfg.engine.dataset.labels}: ` : ds.classNames ? `${cfg.engine.dataset.data_source}: ` : '';
  const { labelProblem, labelsOutOfRange } = ds.hasLabels ? checkLabels(labels, summary.classes, ds.classNames, where) : { labelProblem: null, labelsOutOfRange: false };
  return {
    kind: ds.kind,
    size: ds.size,
    hasLabels: ds.hasLabels,
    classNames: ds.classNames,
    sampleShape: ds.sampleShape,
    warnings: ds.warnings,
    labelCounts: [...labelCounts].sort((a, b) => a[0] - b[0]).map(([label, count]) => ({ label, name: ds.classNames?.[label], count })),
    labelProblem,
    labelsOutOfRange,
    samples,
  };
}
