// Image decoding in pure JavaScript (runs in Node, browsers and web workers): PNG in png.ts
// (fflate's inflate), JPEG via jpeg-js. Output is 8-bit, gray (1 channel) or RGB (3 channels),
// row-major HWC.

import * as jpeg from 'jpeg-js';
import { decodePng } from './png';
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
  if (isPng(bytes)) return wrap(file, 'PNG', () => decodePng(bytes));
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
