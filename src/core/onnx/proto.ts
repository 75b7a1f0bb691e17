// Decode/encode ONNX ModelProto with onnx-proto (protobufjs static code).
import onnxProto from 'onnx-proto';
import { QuantizeError } from '../types';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export const DataType = onnxProto.onnx.TensorProto.DataType;
export const AttrType = onnxProto.onnx.AttributeProto.AttributeType;

/** Largest model file we accept: protobuf caps at 2 GiB and the browser holds several copies. */
export const MAX_MODEL_BYTES = 512 * 1024 * 1024;

/** protobufjs gives int64 as number or Long depending on the environment. */
export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof (v as { toNumber?: () => number }).toNumber === 'function') return (v as { toNumber: () => number }).toNumber();
  if (typeof v === 'string') return Number(v);
  return 0;
}

/** A model file of `size` bytes is within `maxBytes` (the CLI checks it before reading the file,
 *  decodeModel on the bytes: the same message). */
export function checkModelSize(size: number, file: string, maxBytes = MAX_MODEL_BYTES): void {
  if (size <= maxBytes) return;
  const mib = (n: number) => `${+(n / 2 ** 20).toFixed(1)} MiB`;
  throw new QuantizeError(`model is ${size} bytes (${mib(size)}), over the limit`, { file, expected: `a model of at most ${mib(maxBytes)}` });
}

/** Decodes a model file; `maxBytes` (default MAX_MODEL_BYTES) is the largest size accepted. */
export function decodeModel(bytes: Uint8Array, file = 'model', maxBytes = MAX_MODEL_BYTES): ModelProto {
  checkModelSize(bytes.byteLength, file, maxBytes);
  if (bytes.byteLength === 0) throw new QuantizeError('the file is empty', { file, expected: 'an ONNX ModelProto' });
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new QuantizeError(`not a readable ONNX model (${(e as Error).message})`, { file, expected: 'an ONNX ModelProto (.onnx)' });
  }
  if (!model.graph || !(model.graph.node?.length || model.graph.output?.length)) {
    throw new QuantizeError('no graph in the file: it is not an ONNX model', { file, expected: 'an ONNX ModelProto with a graph' });
  }
  return model;
}

export function encodeModel(model: ModelProto | onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model as ModelProto).finish();
}

/** Deep copy through the wire format (simple and exact). */
export function cloneModel(model: ModelProto): ModelProto {
  return onnx.ModelProto.decode(encodeModel(model));
}

/** The default-domain opset version of a model. */
export function opsetVersion(model: ModelProto | onnxProto.onnx.IModelProto): number {
  for (const o of model.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') return toNum(o.version);
  return 1;
}

export function setOpsetVersion(model: ModelProto, version: number): void {
  const o = (model.opsetImport ?? []).find((x) => !x.domain || x.domain === 'ai.onnx');
  if (o) o.version = version;
  else model.opsetImport = [...(model.opsetImport ?? []), onnx.OperatorSetIdProto.create({ domain: '', version })];
}
