// PNG decoding to 8-bit gray or RGB (pure JavaScript; runs in Node, browsers and web workers).
//
// The image data is inflated in one call (fflate's unzlibSync) into a buffer of exactly the size
// the header implies. fflate's streaming inflater (which fast-png uses) drops the bytes of a long
// literal-only deflate block past 128 KiB of output, without an error: PNGs written by the Rust
// png crate (Squoosh, @jsquash/png) decoded to wrong pixels. With the output sized up front
// nothing is dropped, and an image whose data ends early is an error.
//
// Every colour type and bit depth of the PNG specification is read, interlaced (Adam7) or not.
// Alpha and tRNS transparency are dropped; 16-bit samples keep their high byte (libpng's
// png_set_strip_16, what OpenCV's imread does for 8-bit reads); gray samples of 1, 2 or 4 bits are
// scaled to 0..255; palette indices become their RGB entries.

import { unzlibSync } from 'fflate';

/** A decoded PNG: width * height * channels bytes, HWC, RGB order when 3 channels (image.ts's RawImage). */
export interface PngPixels {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Samples per pixel, by colour type: gray, -, RGB, palette index, gray+alpha, -, RGBA. */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Largest inflated image data accepted (bytes): beyond this a header is taken as corrupt. */
const MAX_RAW_BYTES = 1 << 30;

/** Decodes a PNG file; throws an Error saying what is wrong with a corrupt or unsupported one. */
export function decodePng(bytes: Uint8Array): PngPixels {
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) throw new Error('not a PNG signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let o = 8; !ended;) {
    if (o + 12 > bytes.length) throw new Error(`file ends inside a chunk header at byte ${o} (no IEND chunk)`);
    const length = view.getUint32(o);
    const type = String.fromCharCode(bytes[o + 4], bytes[o + 5], bytes[o + 6], bytes[o + 7]);
    if (length > bytes.length - o - 12) throw new Error(`chunk ${type} at byte ${o} runs past the end of the file`);
    const data = bytes.subarray(o + 8, o + 8 + length);
    const critical = (bytes[o + 4] & 0x20) === 0; // an upper-case first letter
    if (crc32(bytes, o + 4, o + 8 + length) !== view.getUint32(o + 8 + length)) throw new Error(`CRC error in chunk ${type} at byte ${o}`);
    o += 12 + length;
    if (type === 'IHDR') header = readHeader(data);
    else if (!header) throw new Error(`chunk ${type} before IHDR`);
    else if (type === 'PLTE') {
      if (length % 3 !== 0 || length === 0 || length > 768) throw new Error(`PLTE chunk of ${length} bytes (expected 3 to 768, a multiple of 3)`);
      palette = data;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    else if (critical) throw new Error(`unsupported critical chunk ${type}`);
    // Ancillary chunks (tRNS, gAMA, iCCP, text, APNG frames, …) do not change the 8-bit colour samples.
  }
  if (!header) throw new Error('no IHDR chunk');
  const { width, height, colorType } = header;
  const channels: 1 | 3 = colorType === 0 || colorType === 4 ? 1 : 3;
  if (width === 0 || height === 0) return { width, height, channels, data: new Uint8Array(0) };
  if (colorType === 3 && !palette) throw new Error('indexed-colour image without a PLTE chunk');
  if (idat.length === 0) throw new Error('no IDAT chunk');

  const passes = header.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const samples = SAMPLES[colorType];
  const bitsPerPixel = samples * header.depth;
  let expected = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = passSize(width, x0, dx),
      ph = passSize(height, y0, dy);
    if (pw > 0 && ph > 0) expected += ph * (1 + Math.ceil((pw * bitsPerPixel) / 8));
  }
  if (Math.max(expected, width * height * channels) > MAX_RAW_BYTES) throw new Error(`image of ${width}×${height} pixels is too large to decode`);

  const z = concat(idat);
  // A zlib stream is at least a 2-byte header, one deflate byte and a 4-byte checksum (fflate returns
  // the output buffer untouched for an empty deflate stream).
  if (z.length < 7) throw new Error(`image data too short (${z.length} bytes of zlib stream)`);
  // Deflate expands at most 1032:1 (258-byte matches in under 2 bits): a header asking for more
  // than that is refused before the buffer is allocated.
  if (expected > (z.length - 6) * 1032 + 258) throw new Error(`image data too short (${z.length} bytes of zlib stream for ${expected} bytes of rows)`);
  let raw: Uint8Array;
  try {
    raw = unzlibSync(z, { out: new Uint8Array(expected) });
  } catch (e) {
    throw new Error(`image data does not inflate (${e instanceof Error ? e.message : String(e)})`);
  }
  if (raw.length < expected) throw new Error(`image data too short (${raw.length} of ${expected} bytes)`);

  const out = new Uint8Array(width * height * channels);
  const emit = rowWriter(header, palette, out, channels);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  let at = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = passSize(width, x0, dx),
      ph = passSize(height, y0, dy);
    if (pw === 0 || ph === 0) continue;
    const rowBytes = Math.ceil((pw * bitsPerPixel) / 8);
    for (let r = 0; r < ph; r++) {
      unfilter(raw, at, rowBytes, bpp, r === 0);
      const y = y0 + r * dy;
      emit(raw, at + 1, pw, (y * width + x0) * channels, dx * channels);
      at += rowBytes + 1;
    }
  }
  return { width, height, channels, data: out };
}

function readHeader(d: Uint8Array): Header {
  if (d.length !== 13) throw new Error(`IHDR chunk of ${d.length} bytes (expected 13)`);
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const [width, height] = [v.getUint32(0), v.getUint32(4)];
  const [depth, colorType, compression, filter, interlace] = [d[8], d[9], d[10], d[11], d[12]];
  if (!(colorType in SAMPLES)) throw new Error(`unknown colour type ${colorType}`);
  if (!DEPTHS[colorType].includes(depth)) throw new Error(`bit depth ${depth} is not allowed for colour type ${colorType}`);
  if (compression !== 0) throw new Error(`unknown compression method ${compression}`);
  if (filter !== 0) throw new Error(`unknown filter method ${filter}`);
  if (interlace > 1) throw new Error(`unknown interlace method ${interlace}`);
  return { width, height, depth, colorType, interlaced: interlace === 1 };
}

function passSize(size: number, start: number, step: number): number {
  return size > start ? Math.ceil((size - start) / step) : 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

/** Reverses the filter of the row whose filter byte is at d[at], in place (the previous row precedes it). */
function unfilter(d: Uint8Array, at: number, n: number, bpp: number, first: boolean): void {
  const s = at + 1,
    e = s + n,
    up = s - n - 1; // the previous row's first byte
  const f = d[at];
  if (f === 0) return;
  if (f === 1) {
    for (let i = s + bpp; i < e; i++) d[i] = d[i] + d[i - bpp];
  } else if (f === 2) {
    if (!first) for (let i = s; i < e; i++) d[i] = d[i] + d[i - s + up];
  } else if (f === 3) {
    if (first) {
      for (let i = s + bpp; i < e; i++) d[i] = d[i] + (d[i - bpp] >> 1);
    } else {
      for (let i = s; i < s + bpp; i++) d[i] = d[i] + (d[i - s + up] >> 1);
      for (let i = s + bpp; i < e; i++) d[i] = d[i] + ((d[i - bpp] + d[i - s + up]) >> 1);
    }
  } else if (f === 4) {
    if (first) {
      // Paeth with no row above picks the left byte: the Sub filter.
      for (let i = s + bpp; i < e; i++) d[i] = d[i] + d[i - bpp];
    } else {
      for (let i = s; i < s + bpp; i++) d[i] = d[i] + d[i - s + up];
      for (let i = s + bpp; i < e; i++) {
        const a = d[i - bpp],
          b = d[i - s + up],
          c = d[i - bpp - s + up];
        const pa = Math.abs(b - c),
          pb = Math.abs(a - c),
          pc = Math.abs(a + b - c - c);
        d[i] = d[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    }
  } else throw new Error(`unknown filter type ${f} in the image data`);
}

type RowWriter = (src: Uint8Array, s: number, n: number, o: number, step: number) => void;

/** Writes the n pixels of an unfiltered row starting at src[s] to out[o], out[o + step], … */
function rowWriter(h: Header, palette: Uint8Array | null, out: Uint8Array, channels: number): RowWriter {
  const { depth, colorType } = h;
  if (colorType === 3) {
    const pal = palette as Uint8Array;
    const entries = pal.length / 3;
    const mask = (1 << depth) - 1;
    return (src, s, n, o, step) => {
      for (let i = 0; i < n; i++, o += step) {
        const bit = i * depth;
        const k = depth === 8 ? src[s + i] : (src[s + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
        if (k >= entries) throw new Error(`palette index ${k} out of range (the palette has ${entries} entries)`);
        out[o] = pal[3 * k];
        out[o + 1] = pal[3 * k + 1];
        out[o + 2] = pal[3 * k + 2];
      }
    };
  }
  if (depth < 8) {
    // Gray of 1, 2 or 4 bits, scaled to 0..255 (exact: 255 is a multiple of 1, 3 and 15).
    const mask = (1 << depth) - 1;
    const scale = 255 / mask;
    return (src, s, n, o, step) => {
      for (let i = 0, bit = 0; i < n; i++, bit += depth, o += step) out[o] = ((src[s + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask) * scale;
    };
  }
  const bytesPerSample = depth >> 3;
  const stride = SAMPLES[colorType] * bytesPerSample; // bytes per pixel in the row
  if (channels === 1)
    return (src, s, n, o, step) => {
      for (let i = 0; i < n; i++, s += stride, o += step) out[o] = src[s];
    };
  const b2 = 2 * bytesPerSample;
  return (src, s, n, o, step) => {
    for (let i = 0; i < n; i++, s += stride, o += step) {
      out[o] = src[s];
      out[o + 1] = src[s + bytesPerSample];
      out[o + 2] = src[s + b2];
    }
  };
}

let CRC_TABLE: Int32Array | null = null;

/** CRC-32 (ISO-HDLC, as PNG chunks use) of bytes[from, to). */
function crc32(bytes: Uint8Array, from: number, to: number): number {
  let t = CRC_TABLE;
  if (!t) {
    t = CRC_TABLE = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c;
    }
  }
  let c = -1;
  for (let i = from; i < to; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
