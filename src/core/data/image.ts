// Image decoding in pure JavaScript (runs in Node, browsers and web workers): PNG via fast-png,
// JPEG via jpeg-js. Output is 8-bit, gray (1 channel) or RGB (3 channels), row-major HWC.

import { decode as decodePng, convertIndexedToRgb } from 'fast-png';
import * as jpeg from 'jpeg-js';
import { QuantizeError } from '../types';

export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** width * height * channels bytes, HWC, RGB order when 3 channels. */
  data: Uint8Array;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

export function isImageFileName(name: string): boolean {
  const n = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => n.endsWith(e));
}

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a;
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Decodes a PNG or JPEG (detected by content, not by name); `file` names it in errors. */
export function decodeImage(bytes: Uint8Array, file = '<image>'): RawImage {
  if (isPng(bytes)) return wrap(file, 'PNG', () => fromPng(bytes));
  if (isJpeg(bytes)) return wrap(file, 'JPEG', () => fromJpeg(bytes));
  throw new QuantizeError('unsupported or unrecognised image format', { file, expected: 'a PNG or JPEG file' });
}

function wrap(file: string, kind: string, f: () => RawImage): RawImage {
  let img: RawImage;
  try {
    img = f();
  } catch (e) {
    if (e instanceof QuantizeError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new QuantizeError(`corrupt or unsupported ${kind} image: ${why}`, { file, expected: `a complete, valid ${kind} file` });
  }
  if (!(img.width > 0 && img.height > 0))
    throw new QuantizeError(`${kind} image has no pixels (${img.width}×${img.height})`, { file, expected: 'an image of at least 1×1 pixels' });
  return img;
}

function fromJpeg(bytes: Uint8Array): RawImage {
  const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
  return { width: d.width, height: d.height, channels: 3, data: d.data };
}

function fromPng(bytes: Uint8Array): RawImage {
  const png = decodePng(bytes, { checkCrc: true });
  const { width, height, depth } = png;
  const n = width * height;
  if (png.palette) {
    const rgbx = convertIndexedToRgb(png);
    const pc = png.palette[0]?.length ?? 3; // 3, or 4 with a tRNS chunk
    return { width, height, channels: 3, data: dropAlpha(rgbx, n, pc, 3) };
  }
  const c = png.channels;
  const samples = n * c;
  let d8: Uint8Array;
  if (depth === 8) {
    d8 = png.data instanceof Uint8Array ? png.data : Uint8Array.from(png.data);
  } else if (depth === 16) {
    // High byte, like libpng's png_set_strip_16 (what OpenCV's imread does for 8-bit reads).
    const src = png.data;
    d8 = new Uint8Array(samples);
    for (let i = 0; i < samples; i++) d8[i] = src[i] >> 8;
  } else {
    d8 = unpackLowDepth(png.data as Uint8Array, width, height, c, depth);
  }
  if (d8.length < samples) throw new Error(`pixel data too short (${d8.length} < ${samples})`);
  if (c === 1) return { width, height, channels: 1, data: d8.length === n ? d8 : d8.subarray(0, n) };
  if (c === 2) return { width, height, channels: 1, data: dropAlpha(d8, n, 2, 1) };
  if (c === 3) return { width, height, channels: 3, data: d8.length === samples ? d8 : d8.subarray(0, samples) };
  if (c === 4) return { width, height, channels: 3, data: dropAlpha(d8, n, 4, 3) };
  throw new Error(`unsupported channel count ${c}`);
}

/** Keeps the first `keep` of `stride` samples per pixel. */
function dropAlpha(src: ArrayLike<number>, n: number, stride: number, keep: number): Uint8Array {
  if (stride === keep) return src instanceof Uint8Array ? src : Uint8Array.from(src);
  const out = new Uint8Array(n * keep);
  for (let i = 0; i < n; i++) for (let k = 0; k < keep; k++) out[i * keep + k] = src[i * stride + k];
  return out;
}

/** Gray PNGs of depth 1, 2 or 4: packed rows (byte-aligned), scaled to 0..255. */
function unpackLowDepth(packed: Uint8Array, width: number, height: number, channels: number, depth: number): Uint8Array {
  const perRow = Math.ceil((width * channels * depth) / 8);
  const max = (1 << depth) - 1;
  const scale = 255 / max;
  const out = new Uint8Array(width * height * channels);
  const perByte = 8 / depth;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * channels; x++) {
      const byte = packed[y * perRow + Math.floor(x / perByte)];
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width * channels + x] = Math.round(((byte >> shift) & max) * scale);
    }
  }
  return out;
}
