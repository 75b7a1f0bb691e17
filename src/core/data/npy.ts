// NumPy .npy reader/writer (format versions 1.0, 2.0, 3.0; little-endian, C order).
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

import { QuantizeError } from '../types';

export type NpyDType = 'u1' | 'i1' | 'u2' | 'i2' | 'i4' | 'i8' | 'f4' | 'f8' | 'b1';

export type NpyData = Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  /** Elements in C order; bool is a Uint8Array of 0/1. */
  data: NpyData;
}

const ITEMSIZE: Record<NpyDType, number> = { u1: 1, i1: 1, b1: 1, u2: 2, i2: 2, i4: 4, i8: 8, f4: 4, f8: 8 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses a .npy file; `file` names it in errors. */
export function parseNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  const fail = (msg: string, expected?: string) => new QuantizeError(msg, { file, expected });
  if (!isNpy(bytes)) throw fail('not a .npy file (bad magic)', 'the \\x93NUMPY header');
  if (bytes.length < 10) throw fail('truncated .npy header', 'a complete .npy file (numpy.save)');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw fail('truncated .npy header', 'a complete .npy file (numpy.save)');
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw fail(`unsupported .npy format version ${major}.${bytes[7]}`, 'version 1, 2 or 3');
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw fail('truncated .npy header', 'a complete .npy file (numpy.save)');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));

  const descrM = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(header);
  if (!descrM) {
    if (/['"]descr['"]\s*:\s*\[/.test(header)) throw fail('structured dtypes are not supported', 'a plain numeric dtype');
    throw fail(`malformed .npy header: ${header.trim()}`, 'a .npy header written by numpy.save');
  }
  const fortranM = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!fortranM || !shapeM) throw fail(`malformed .npy header: ${header.trim()}`, 'a .npy header written by numpy.save');
  if (fortranM[1] === 'True') {
    throw fail('Fortran-order (column-major) arrays are not supported', 'C order; save with np.ascontiguousarray');
  }
  const shape = shapeM[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw fail(`malformed shape in .npy header: (${shapeM[1]})`, 'non-negative integer dimensions');
      return n;
    });

  const descr = descrM[2];
  const order = descr[0];
  let code = descr.slice(1);
  if (!'<>|='.includes(order)) code = descr;
  if (code === '?') code = 'b1';
  if (!(code in ITEMSIZE)) {
    throw fail(`unsupported dtype '${descr}'`, 'one of uint8, int8, uint16, int16, int32, int64, float32, float64, bool');
  }
  const dtype = code as NpyDType;
  const itemsize = ITEMSIZE[dtype];
  if (order === '>' && itemsize > 1) throw fail(`big-endian dtype '${descr}' is not supported`, "little-endian; use arr.astype('<" + code + "')");

  const count = product(shape);
  const nbytes = count * itemsize;
  if (dataStart + nbytes > bytes.length) {
    throw fail(`truncated .npy data: shape (${shape.join(', ')}) needs ${nbytes} bytes, file has ${bytes.length - dataStart}`, 'a complete .npy file (numpy.save)');
  }
  // Copy so the typed array is aligned and independent of the file buffer.
  const buf = bytes.slice(dataStart, dataStart + nbytes).buffer;
  let data: NpyData;
  switch (dtype) {
    case 'u1':
      data = new Uint8Array(buf);
      break;
    case 'b1':
      data = new Uint8Array(buf).map((v) => (v ? 1 : 0));
      break;
    case 'i1':
      data = new Int8Array(buf);
      break;
    case 'u2':
      data = new Uint16Array(buf);
      break;
    case 'i2':
      data = new Int16Array(buf);
      break;
    case 'i4':
      data = new Int32Array(buf);
      break;
    case 'i8':
      data = new BigInt64Array(buf);
      break;
    case 'f4':
      data = new Float32Array(buf);
      break;
    case 'f8':
      data = new Float64Array(buf);
      break;
  }
  if (!littleEndianHost() && itemsize > 1) byteswap(new Uint8Array(buf), itemsize);
  return { dtype, shape, data };
}

/** Writes a version 1.0 .npy file (little-endian, C order). */
export function encodeNpy(arr: NpyArray): Uint8Array {
  const descr = arr.dtype === 'b1' ? '|b1' : (ITEMSIZE[arr.dtype] === 1 ? '|' : '<') + arr.dtype;
  const shapeStr = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const count = product(arr.shape);
  if (arr.data.length !== count) throw new Error(`encodeNpy: data has ${arr.data.length} elements, shape needs ${count}`);
  const body = new Uint8Array(arr.data.buffer, arr.data.byteOffset, count * ITEMSIZE[arr.dtype]);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

/** Element values as Float32 (int64 through Number). */
export function toFloat32(data: NpyData): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  if (data instanceof BigInt64Array) for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  else out.set(data);
  return out;
}

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function byteswap(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}
