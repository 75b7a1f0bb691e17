// decodeImage on PNGs against an independent decoder (pngjs, which inflates with node:zlib).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { Unzlib } from 'fflate';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/core/data/image';
import { QuantizeError } from '../../src/core/types';

const fixture = (p: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url))));

/** What decodeImage should return, from pngjs: alpha dropped, 16-bit samples' high byte, gray as 1 channel. */
function reference(png: Uint8Array): { width: number; height: number; channels: 1 | 3; data: Uint8Array } {
  const depth = png[24],
    colorType = png[25];
  const p = PNG.sync.read(Buffer.from(png), { skipRescale: depth === 16 });
  const channels = colorType === 0 || colorType === 4 ? 1 : 3;
  const n = p.width * p.height;
  const src = p.data as unknown as ArrayLike<number>;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = depth === 16 ? src[4 * i + c] >> 8 : src[4 * i + c];
  return { width: p.width, height: p.height, channels, data };
}

/** The concatenated IDAT data of a PNG, and each IDAT chunk's data. */
function idat(png: Uint8Array): { all: Uint8Array; chunks: Uint8Array[] } {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: Uint8Array[] = [];
  for (let o = 8; o < png.length;) {
    const len = v.getUint32(o);
    if (String.fromCharCode(...png.subarray(o + 4, o + 8)) === 'IDAT') chunks.push(png.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  return { all: Buffer.concat(chunks), chunks };
}

/** -1 when equal, else the first index where the bytes differ (or the shorter length). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('no error');
}

// ------------------------------------------------------------ a PNG writer for the tests

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

interface Spec {
  width: number;
  height: number;
  colorType: number;
  depth: number;
  interlaced: boolean;
  seed: number;
  /** zlib level (0 = stored blocks). */
  level: number;
  /** IDAT chunks the zlib stream is split into. */
  idats: number;
  /** Writes a tRNS chunk (palette alphas, or a transparent gray/RGB colour). */
  trns: boolean;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 16777216;
}

/** A PNG of random samples written with every filter type (chosen per row at random). */
function writePng(spec: Spec): Buffer {
  const { width, height, colorType, depth } = spec;
  const r = rng(spec.seed);
  const spp = SAMPLES[colorType];
  const paletteSize = colorType === 3 ? 1 + Math.floor(r() * Math.min(256, 1 << depth)) : 0;
  const max = colorType === 3 ? paletteSize - 1 : 2 ** depth - 1;
  const samples = Uint16Array.from({ length: width * height * spp }, () => Math.floor(r() * (max + 1)));
  const bpp = Math.max(1, (spp * depth) >> 3);
  const rows: number[] = [];
  for (const [x0, y0, dx, dy] of spec.interlaced ? ADAM7 : [[0, 0, 1, 1]]) {
    const pw = width > x0 ? Math.ceil((width - x0) / dx) : 0;
    const ph = height > y0 ? Math.ceil((height - y0) / dy) : 0;
    if (pw === 0 || ph === 0) continue;
    const rowBytes = Math.ceil((pw * spp * depth) / 8);
    let prev = new Uint8Array(rowBytes);
    for (let y = y0; y < height; y += dy) {
      const line = new Uint8Array(rowBytes);
      let bit = 0;
      for (let x = x0; x < width; x += dx) {
        for (let k = 0; k < spp; k++) {
          const s = samples[(y * width + x) * spp + k];
          if (depth === 16) ((line[bit >> 3] = s >> 8), (line[(bit >> 3) + 1] = s & 0xff));
          else if (depth === 8) line[bit >> 3] = s;
          else line[bit >> 3] |= s << (8 - depth - (bit & 7));
          bit += depth;
        }
      }
      const f = Math.floor(r() * 5);
      rows.push(f);
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? line[i - bpp] : 0,
          b = prev[i],
          c = i >= bpp ? prev[i - bpp] : 0;
        const p = a + b - c;
        const pred = [0, a, b, (a + b) >> 1, Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c][f];
        rows.push((line[i] - pred) & 0xff);
      }
      prev = line;
    }
  }
  const z = deflateSync(Uint8Array.from(rows), { level: spec.level });
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr.set([depth, colorType, 0, 0, spec.interlaced ? 1 : 0], 8);
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (colorType === 3)
    parts.push(
      chunk(
        'PLTE',
        Uint8Array.from({ length: 3 * paletteSize }, () => Math.floor(r() * 256)),
      ),
    );
  if (spec.trns && colorType === 3)
    parts.push(
      chunk(
        'tRNS',
        Uint8Array.from({ length: Math.ceil(paletteSize / 2) }, () => Math.floor(r() * 256)),
      ),
    );
  if (spec.trns && (colorType === 0 || colorType === 2)) {
    // The colour of the first pixel is the transparent one.
    const t = new Uint8Array(2 * spp);
    for (let k = 0; k < spp; k++) new DataView(t.buffer).setUint16(2 * k, samples[k]);
    parts.push(chunk('tRNS', t));
  }
  parts.push(chunk('tEXt', new TextEncoder().encode('Comment\0written by png-decode.test.ts')));
  const step = Math.ceil(z.length / spec.idats);
  for (let o = 0; o < z.length || o === 0; o += step) parts.push(chunk('IDAT', z.subarray(o, o + step)));
  parts.push(chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

const specArb = fc
  .record({
    colorDepth: fc.constantFrom(
      ...[
        [0, 1],
        [0, 2],
        [0, 4],
        [0, 8],
        [0, 16],
        [2, 8],
        [2, 16],
        [3, 1],
        [3, 2],
        [3, 4],
        [3, 8],
        [4, 8],
        [4, 16],
        [6, 8],
        [6, 16],
      ],
    ),
    width: fc.integer({ min: 1, max: 37 }),
    height: fc.integer({ min: 1, max: 29 }),
    interlaced: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    level: fc.integer({ min: 0, max: 9 }),
    idats: fc.integer({ min: 1, max: 4 }),
    trns: fc.boolean(),
  })
  .map(({ colorDepth: [colorType, depth], ...s }): Spec => ({ ...s, colorType, depth }));

describe('PNG decoding', () => {
  it('decodes a png-crate PNG with a long literal-only deflate block to the pixels pngjs gives', () => {
    // 200×200 RGBA written by the Rust png crate (@jsquash/png 3.1.1): one deflate block writes
    // more than 128 KiB of literals, which fflate's streaming inflater (fast-png's) silently
    // drops, leaving wrong pixels and no error.
    const png = fixture('png/png-crate-long-literal-block.png');
    const { all, chunks } = idat(png);
    const truth = inflateSync(all);
    const streamed: Uint8Array[] = [];
    const inflater = new Unzlib((d) => streamed.push(d));
    for (const c of chunks) inflater.push(c, false);
    inflater.push(new Uint8Array(0), true);
    const s = Buffer.concat(streamed);
    // The fixture still exercises the streaming bug (if fflate fixes it, this fixture needs no special path).
    expect(s.length === truth.length && s.equals(truth)).toBe(false);

    const img = decodeImage(png, 'png-crate.png');
    const ref = reference(png);
    expect([img.width, img.height, img.channels]).toEqual([200, 200, 3]);
    expect(firstDifference(img.data, ref.data)).toBe(-1);
  });

  it('decodes every colour type, bit depth, filter and interlace like pngjs', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(specArb, (spec) => {
        const png = writePng(spec);
        // tRNS on gray/RGB makes pngjs black out the transparent colour; decodeImage keeps colours.
        const ref = reference(spec.trns && spec.colorType !== 3 ? writePng({ ...spec, trns: false }) : png);
        const img = decodeImage(png, 'gen.png');
        seen.add(`${spec.colorType}/${spec.depth}/${spec.interlaced}`);
        expect([img.width, img.height, img.channels]).toEqual([ref.width, ref.height, ref.channels]);
        expect(firstDifference(img.data, ref.data)).toBe(-1);
      }),
      { numRuns: 400, seed: 11 },
    );
    expect(seen.size).toBe(30); // 15 colour type/depth pairs, interlaced or not
  });

  it('decodes 224×224 images written by pngjs (node:zlib) like pngjs', () => {
    const r = rng(5);
    for (const colorType of [0, 2, 6] as const) {
      const p = new PNG({ width: 224, height: 224 });
      for (let i = 0; i < p.data.length; i++) p.data[i] = ((i >> 6) % 251) ^ Math.floor(r() * 8);
      const png = new Uint8Array(PNG.sync.write(p, { colorType, inputColorType: 6, inputHasAlpha: true }));
      const img = decodeImage(png);
      const ref = reference(png);
      expect([img.width, img.height, img.channels]).toEqual([224, 224, ref.channels]);
      expect(firstDifference(img.data, ref.data)).toBe(-1);
    }
  });

  it('rejects short or inconsistent image data, naming the file', () => {
    const spec: Spec = { width: 20, height: 10, colorType: 2, depth: 8, interlaced: false, seed: 3, level: 6, idats: 1, trns: false };
    const good = writePng(spec);
    // A zlib stream that ends (validly) before the rows do.
    const rows = inflateSync(idat(good).all);
    const short = Buffer.from(good);
    const z = deflateSync(rows.subarray(0, rows.length - 31));
    const at = short.indexOf('IDAT') - 4;
    const cut = Buffer.concat([short.subarray(0, at), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))]);
    const e1 = errorOf(() => decodeImage(cut, 'short.png'));
    expect(e1).toBeInstanceOf(QuantizeError);
    expect(e1.message).toMatch(/^short\.png: corrupt or unsupported PNG image: image data too short \(579 of 610 bytes\)/);
    expect(rows.length).toBe(610);

    const pal = writePng({ ...spec, colorType: 3, depth: 8, seed: 9 });
    const plte = pal.indexOf('PLTE') - 4;
    const n = new DataView(pal.buffer, pal.byteOffset).getUint32(plte) / 3;
    const palRows = inflateSync(idat(pal).all);
    expect(n).toBeLessThan(256);
    palRows[0] = 0; // the first row unfiltered, its first pixel one past the palette
    palRows[1] = n;
    const bad = Buffer.concat([pal.subarray(0, pal.indexOf('IDAT') - 4), chunk('IDAT', deflateSync(palRows)), chunk('IEND', new Uint8Array(0))]);
    expect(errorOf(() => decodeImage(bad, 'p.png')).message).toMatch(new RegExp(`^p\\.png: corrupt or unsupported PNG image: palette index ${n} out of range`));

    const crc = Buffer.from(good);
    crc[crc.indexOf('IDAT') + 10] ^= 1;
    expect(errorOf(() => decodeImage(crc, 'c.png')).message).toMatch(/^c\.png: corrupt or unsupported PNG image: CRC error in chunk IDAT/);

    const ihdr = Buffer.from(good);
    ihdr[25] = 5; // colour type 5 does not exist
    ihdr.writeUInt32BE(crc32(ihdr.subarray(12, 29)), 29);
    expect(errorOf(() => decodeImage(ihdr, 'h.png')).message).toMatch(/^h\.png: corrupt or unsupported PNG image: unknown colour type 5/);
  });
});
