// MNIST IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian magic 0x0000TTDD (TT = element
// type, DD = number of dimensions), DD big-endian uint32 sizes, then the elements (big-endian).

import { QuantizeError } from '../types';
import { product, type NpyArray } from './npy';

const TYPES: Record<number, { dtype: NpyArray['dtype']; size: number }> = {
  0x08: { dtype: 'u1', size: 1 },
  0x09: { dtype: 'i1', size: 1 },
  0x0b: { dtype: 'i2', size: 2 },
  0x0c: { dtype: 'i4', size: 4 },
  0x0d: { dtype: 'f4', size: 4 },
  0x0e: { dtype: 'f8', size: 8 },
};

/** Whether the bytes start like an IDX file (zero bytes, a known type, 1..4 dims). */
export function isIdx(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] in TYPES && bytes[3] >= 1 && bytes[3] <= 4;
}

/** Parses an IDX file into an array (same shape as a .npy array, element type as its dtype). */
export function parseIdx(bytes: Uint8Array, file = '<idx>'): NpyArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new QuantizeError('IDX file is gzip-compressed', { file, expected: 'an uncompressed IDX file; gunzip it first' });
  }
  if (!isIdx(bytes)) {
    const magic = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false) : -1;
    throw new QuantizeError(`not an IDX file (magic 0x${magic.toString(16).padStart(8, '0')})`, {
      file,
      expected: '0x00000801 (labels), 0x00000803 (images) or another 0x0000TTDD IDX magic',
    });
  }
  const t = TYPES[bytes[2]];
  const ndim = bytes[3];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = 4 + 4 * ndim;
  if (bytes.length < head) throw new QuantizeError('truncated IDX header', { file, expected: 'a complete, uncompressed IDX file' });
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(dv.getUint32(4 + 4 * d, false));
  const count = product(shape);
  const need = count * t.size;
  if (head + need > bytes.length) {
    throw new QuantizeError(`truncated IDX data: shape [${shape.join(', ')}] needs ${need} bytes, file has ${bytes.length - head}`, {
      file,
      expected: 'a complete, uncompressed IDX file',
    });
  }
  let data: NpyArray['data'];
  switch (t.dtype) {
    case 'u1':
      data = bytes.slice(head, head + count);
      break;
    case 'i1':
      data = new Int8Array(bytes.slice(head, head + count).buffer);
      break;
    case 'i2': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getInt16(head + 2 * i, false);
      data = a;
      break;
    }
    case 'i4': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getInt32(head + 4 * i, false);
      data = a;
      break;
    }
    case 'f4': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getFloat32(head + 4 * i, false);
      data = a;
      break;
    }
    default: {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getFloat64(head + 8 * i, false);
      data = a;
    }
  }
  return { dtype: t.dtype, shape, data };
}

/** Writes an unsigned-byte IDX file (labels: shape [N]; images: [N, H, W]). */
export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  if (data.length !== product(shape)) throw new Error(`encodeIdx: ${data.length} elements for shape [${shape.join(', ')}]`);
  const head = 4 + 4 * shape.length;
  const out = new Uint8Array(head + data.length);
  const dv = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((s, d) => dv.setUint32(4 + 4 * d, s, false));
  out.set(data, head);
  return out;
}
