// TensorProto <-> host arrays. Reads raw_data and the typed fields; writes raw_data.
import { QuantizeError, type DType, type TensorData, type TypedArray } from '../types';
import { DataType, onnx, toNum, type TensorProto } from './proto';

const DTYPES: Record<number, DType> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.FLOAT16]: 'float16',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.INT16]: 'int16',
  [DataType.UINT16]: 'uint16',
  [DataType.INT32]: 'int32',
  [DataType.UINT32]: 'uint32',
  [DataType.INT64]: 'int64',
  [DataType.UINT64]: 'uint64',
  [DataType.BOOL]: 'bool',
  [DataType.STRING]: 'string',
};
const CODES: Record<DType, number> = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v, Number(k)])) as Record<DType, number>;

export function dtypeOf(code: number, where = 'tensor'): DType {
  const t = DTYPES[code];
  if (!t) throw new QuantizeError(`unsupported tensor element type ${code}`, { field: where, expected: 'float, float16, double, (u)int8/16/32/64, bool or string' });
  return t;
}
export const dataTypeCode = (t: DType): number => CODES[t];

type Ctor = { new (n: number): TypedArray; new (buf: ArrayBuffer, off: number, n: number): TypedArray; BYTES_PER_ELEMENT: number };
const CTORS: Record<Exclude<DType, 'string'>, Ctor> = {
  float32: Float32Array as unknown as Ctor,
  float64: Float64Array as unknown as Ctor,
  float16: Uint16Array as unknown as Ctor,
  int8: Int8Array as unknown as Ctor,
  uint8: Uint8Array as unknown as Ctor,
  int16: Int16Array as unknown as Ctor,
  uint16: Uint16Array as unknown as Ctor,
  int32: Int32Array as unknown as Ctor,
  uint32: Uint32Array as unknown as Ctor,
  int64: BigInt64Array as unknown as Ctor,
  uint64: BigUint64Array as unknown as Ctor,
  bool: Uint8Array as unknown as Ctor,
};

export const numel = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

/** Values of a TensorProto (float16 stays as raw uint16 bits; see toFloat32). */
export function readTensor(t: TensorProto): TensorData {
  const name = t.name ?? '';
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    throw new QuantizeError(`tensor '${name}' keeps its data in an external file, which we do not support`, {
      field: `initializer ${name}`,
      expected: 'weights stored inside the .onnx file',
    });
  }
  const type = dtypeOf(t.dataType ?? 0, `tensor ${name}`);
  const dims = (t.dims ?? []).map(toNum);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new QuantizeError(`tensor '${name}' has shape [${dims}]`, { field: `tensor ${name}`, expected: 'non-negative integer dimensions' });
  }
  const n = numel(dims);
  if (type === 'string') {
    const dec = new TextDecoder();
    return { type, dims, data: (t.stringData ?? []).map((b) => dec.decode(b)) };
  }
  const C = CTORS[type];
  const raw = t.rawData;
  if (raw && raw.byteLength > 0) {
    if (raw.byteLength !== n * C.BYTES_PER_ELEMENT) {
      throw new QuantizeError(`tensor '${name}' has ${raw.byteLength} bytes of raw data for shape [${dims}]`, {
        field: `tensor ${name}`,
        expected: `${n * C.BYTES_PER_ELEMENT} bytes`,
      });
    }
    const copy = new Uint8Array(raw.byteLength); // aligned copy (raw may be a Node Buffer view)
    copy.set(raw);
    return { type, dims, data: new C(copy.buffer, 0, n) };
  }
  let src: ArrayLike<unknown>;
  switch (type) {
    case 'float32':
      src = t.floatData ?? [];
      break;
    case 'float64':
      src = t.doubleData ?? [];
      break;
    case 'int64':
      src = t.int64Data ?? [];
      break;
    case 'uint32':
    case 'uint64':
      src = t.uint64Data ?? [];
      break;
    default:
      src = t.int32Data ?? []; // int8/16, uint8/16, int32, bool, float16 bits
  }
  if (src.length !== n) {
    throw new QuantizeError(`tensor '${name}' has ${src.length} values for shape [${dims}]`, { field: `tensor ${name}`, expected: `${n} values` });
  }
  const out = new C(n); // only now: the declared shape may be absurd, the values present are not
  if (type === 'int64') for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = BigInt(String(src[i]));
  else if (type === 'uint64') for (let i = 0; i < n; i++) (out as BigUint64Array)[i] = BigInt(String(src[i]));
  else for (let i = 0; i < n; i++) (out as Float32Array)[i] = toNum(src[i]);
  return { type, dims, data: out };
}

/** A TensorProto holding `data` as raw_data. */
export function makeTensor(name: string, type: DType, dims: number[], data: TypedArray | ArrayLike<number>): TensorProto {
  if (type === 'string') throw new Error('string tensors are not written');
  const C = CTORS[type];
  let arr: TypedArray;
  if (data instanceof (C as unknown as Function)) arr = data as TypedArray;
  else {
    arr = new C((data as ArrayLike<number>).length);
    for (let i = 0; i < arr.length; i++) (arr as Float32Array)[i] = (data as ArrayLike<number>)[i];
  }
  const view = arr as Exclude<TypedArray, string[]>;
  const rawData = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return onnx.TensorProto.create({ name, dataType: CODES[type], dims, rawData });
}

/** IEEE half bits → float32. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** A float view of any numeric tensor (float16 decoded, ints converted). */
export function toFloat32(t: TensorData): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'string') throw new Error('string tensor has no float value');
  const n = t.data.length;
  const out = new Float32Array(n);
  if (t.type === 'float16') for (let i = 0; i < n; i++) out[i] = halfToFloat((t.data as Uint16Array)[i]);
  else for (let i = 0; i < n; i++) out[i] = Number((t.data as Float64Array)[i]);
  return out;
}
