import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, toFloat32, type NpyArray } from '../../src/core/data/npy';
import { encodeIdx, isIdx, parseIdx } from '../../src/core/data/idx';
import { parseImageList, parseLabels } from '../../src/core/data/labels';
import { QuantizeError } from '../../src/core/types';

const fixture = (p: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url))));

/** Rewrites the header of a v1 .npy (keeps the data). */
function withHeader(bytes: Uint8Array, edit: (h: string) => string, version = 1): Uint8Array {
  const hl = bytes[8] | (bytes[9] << 8);
  const header = edit(new TextDecoder('latin1').decode(bytes.subarray(10, 10 + hl)));
  const pre = version === 1 ? 10 : 12;
  let h = header.trimEnd();
  h += ' '.repeat((64 - ((pre + h.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + h.length + bytes.length - 10 - hl);
  out.set(bytes.subarray(0, 6));
  out[6] = version;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  out.set(new TextEncoder().encode(h), pre);
  out.set(bytes.subarray(10 + hl), pre + h.length);
  return out;
}

describe('npy', () => {
  it('parses the Fashion-MNIST fixtures (uint8 images, int64 labels)', () => {
    const x = parseNpy(fixture('fmnist-40-x.npy'), 'fmnist-40-x.npy');
    expect(x.dtype).toBe('u1');
    expect(x.shape).toEqual([40, 28, 28]);
    expect(x.data).toBeInstanceOf(Uint8Array);
    expect(x.data.length).toBe(40 * 28 * 28);
    const y = parseNpy(fixture('fmnist-40-y.npy'), 'fmnist-40-y.npy');
    expect(y.dtype).toBe('i8');
    expect(y.shape).toEqual([40]);
    // 4 per class, in class-folder order
    expect(Array.from(y.data as BigInt64Array, Number)).toEqual(Array.from({ length: 40 }, (_, i) => Math.floor(i / 4)));
  });

  it('parses the OCR fixture (BGR uint8 [4,48,192,3])', () => {
    const x = parseNpy(fixture('ocr-4-x.npy'), 'ocr-4-x.npy');
    expect(x.shape).toEqual([4, 48, 192, 3]);
  });

  const cases: NpyArray[] = [
    { dtype: 'u1', shape: [2, 2], data: Uint8Array.from([0, 1, 254, 255]) },
    { dtype: 'i1', shape: [3], data: Int8Array.from([-128, 0, 127]) },
    { dtype: 'u2', shape: [2], data: Uint16Array.from([0, 65535]) },
    { dtype: 'i2', shape: [2], data: Int16Array.from([-32768, 32767]) },
    { dtype: 'i4', shape: [1, 2], data: Int32Array.from([-5, 2 ** 31 - 1]) },
    { dtype: 'i8', shape: [2], data: BigInt64Array.from([-3n, 9007199254740991n]) },
    { dtype: 'f4', shape: [2, 1, 1], data: Float32Array.from([1.5, -0.25]) },
    { dtype: 'f8', shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    { dtype: 'b1', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    { dtype: 'f4', shape: [], data: Float32Array.from([7]) },
  ];
  for (const c of cases) {
    it(`round-trips ${c.dtype} shape [${c.shape.join(',')}]`, () => {
      const back = parseNpy(encodeNpy(c), 't.npy');
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual(c.shape);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(c.data as ArrayLike<unknown>));
      expect(back.data.constructor).toBe(c.data.constructor);
    });
  }

  it('reads format versions 2.0 and 3.0 and the "?" bool code', () => {
    const base = encodeNpy({ dtype: 'i4', shape: [3], data: Int32Array.from([1, 2, 3]) });
    for (const v of [2, 3]) expect(Array.from(parseNpy(withHeader(base, (h) => h, v)).data as Int32Array)).toEqual([1, 2, 3]);
    const b = encodeNpy({ dtype: 'b1', shape: [2], data: Uint8Array.from([0, 1]) });
    expect(Array.from(parseNpy(withHeader(b, (h) => h.replace("'|b1'", "'?'"))).data as Uint8Array)).toEqual([0, 1]);
  });

  it('converts to float32', () => {
    expect(Array.from(toFloat32(BigInt64Array.from([3n, -2n])))).toEqual([3, -2]);
    expect(Array.from(toFloat32(Uint8Array.from([255])))).toEqual([255]);
  });

  it('rejects Fortran order, big endian, unsupported dtypes and truncation, naming the file', () => {
    const base = encodeNpy({ dtype: 'f4', shape: [2, 2], data: new Float32Array(4) });
    const bad = (bytes: Uint8Array, re: RegExp) => {
      let err: unknown;
      try {
        parseNpy(bytes, 'data/x.npy');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QuantizeError);
      expect((err as Error).message).toMatch(/^data\/x\.npy: /);
      expect((err as Error).message).toMatch(re);
    };
    bad(
      withHeader(base, (h) => h.replace('False', 'True')),
      /Fortran/,
    );
    bad(
      withHeader(base, (h) => h.replace('<f4', '>f4')),
      /big-endian/,
    );
    bad(
      withHeader(base, (h) => h.replace('<f4', '<c8')),
      /unsupported dtype '<c8'/,
    );
    bad(
      withHeader(base, (h) => h.replace('<f4', '<U4')),
      /unsupported dtype/,
    );
    bad(
      withHeader(base, (h) => h.replace("'<f4'", "[('a', '<f4')]")),
      /structured/,
    );
    bad(base.subarray(0, base.length - 1), /truncated/);
    bad(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /not a \.npy/);
  });
});

describe('idx', () => {
  it('round-trips ubyte images and labels', () => {
    const images = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => i * 10);
    const enc = encodeIdx([3, 2, 4], images);
    expect(Array.from(enc.subarray(0, 4))).toEqual([0, 0, 8, 3]); // magic 2051
    expect(isIdx(enc)).toBe(true);
    const back = parseIdx(enc, 'imgs-idx3-ubyte');
    expect(back).toEqual({ dtype: 'u1', shape: [3, 2, 4], data: images });
    const labels = encodeIdx([3], Uint8Array.from([7, 0, 9]));
    expect(Array.from(labels.subarray(0, 4))).toEqual([0, 0, 8, 1]); // magic 2049
    expect(Array.from(parseLabels(labels, 'labels-idx1-ubyte'))).toEqual([7, 0, 9]);
  });

  it('reads big-endian int32/float32 IDX elements', () => {
    const b = new Uint8Array(4 + 4 + 8);
    const dv = new DataView(b.buffer);
    b[2] = 0x0d;
    b[3] = 1;
    dv.setUint32(4, 2, false);
    dv.setFloat32(8, 1.5, false);
    dv.setFloat32(12, -2, false);
    expect(parseIdx(b)).toEqual({ dtype: 'f4', shape: [2], data: Float32Array.from([1.5, -2]) });
  });

  it('checks the magic, gzip and truncation, naming the file', () => {
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4, 0, 0, 0, 0]), 'x-idx3-ubyte')).toThrow(/^x-idx3-ubyte: not an IDX file \(magic 0x01020304\)/);
    expect(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0]), 'x.gz')).toThrow(/x\.gz: IDX file is gzip-compressed/);
    const enc = encodeIdx([2, 2, 2], new Uint8Array(8));
    expect(() => parseIdx(enc.subarray(0, enc.length - 1), 't-idx3-ubyte')).toThrow(/t-idx3-ubyte: truncated IDX data/);
  });
});

describe('labels', () => {
  it('parses text labels and image lists', () => {
    const te = new TextEncoder();
    expect(Array.from(parseLabels(te.encode('# comment\n3\n0\r\n\n12\n'), 'l.txt'))).toEqual([3, 0, 12]);
    expect(parseImageList(te.encode('a/b c.png 2\nx.jpg\t0\n'), 'list.txt')).toEqual([
      { path: 'a/b c.png', label: 2 },
      { path: 'x.jpg', label: 0 },
    ]);
    expect(() => parseLabels(te.encode('1\n1.5\n'), 'l.txt')).toThrow(/l\.txt: invalid label '1\.5' at line 2/);
    expect(() => parseImageList(te.encode('nolabel\n'), 'list.txt')).toThrow(/list\.txt: line 1/);
  });

  it('rejects one-hot and negative labels in arrays', () => {
    const onehot = encodeNpy({ dtype: 'f4', shape: [2, 2], data: Float32Array.from([1, 0, 0, 1]) });
    expect(() => parseLabels(onehot, 'y.npy')).toThrow(/y\.npy: labels array has shape \[2, 2\]/);
    const neg = encodeNpy({ dtype: 'i4', shape: [2], data: Int32Array.from([1, -1]) });
    expect(() => parseLabels(neg, 'y.npy')).toThrow(/y\.npy: invalid label '-1' at index 1/);
    const ok = encodeNpy({ dtype: 'f8', shape: [2, 1], data: Float64Array.from([1, 4]) });
    expect(Array.from(parseLabels(ok, 'y.npy'))).toEqual([1, 4]);
  });
});
