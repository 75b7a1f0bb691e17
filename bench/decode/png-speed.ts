// PNG decode speed of src/core/data/image.ts (decodeImage) on 224×224 images, against fast-png's
// decoder on the same files (what decodeImage used before it inflated and unfiltered PNGs itself).
//
//   npx tsx bench/decode/png-speed.ts [--images 300] [--rounds 5]
//
// Images: Fashion-MNIST rows (tests/fixtures/fmnist-2000/x.npy) upscaled bilinearly to 224×224 and
// tinted per class, written by pngjs (node:zlib) as RGB, RGBA and gray 8-bit PNGs. Prints the median
// over rounds of the time per image, decoding all images once per round.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { decode as fastPngDecode } from 'fast-png';
import { PNG } from 'pngjs';
import { decodeImage } from '../../src/core/data/image';
import { parseNpy } from '../../src/core/data/npy';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIZE = 224;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const N = arg('images', 300);
const ROUNDS = arg('rounds', 5);

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Bilinear resize of a 28×28 gray image to SIZE×SIZE (half-pixel centres). */
function upscale(src: Uint8Array): Float64Array {
  const out = new Float64Array(SIZE * SIZE);
  const s = 28 / SIZE;
  for (let y = 0; y < SIZE; y++) {
    const fy = Math.min(Math.max((y + 0.5) * s - 0.5, 0), 27);
    const y0 = Math.floor(fy),
      y1 = Math.min(y0 + 1, 27),
      wy = fy - y0;
    for (let x = 0; x < SIZE; x++) {
      const fx = Math.min(Math.max((x + 0.5) * s - 0.5, 0), 27);
      const x0 = Math.floor(fx),
        x1 = Math.min(x0 + 1, 27),
        wx = fx - x0;
      const a = src[y0 * 28 + x0] * (1 - wx) + src[y0 * 28 + x1] * wx;
      const b = src[y1 * 28 + x0] * (1 - wx) + src[y1 * 28 + x1] * wx;
      out[y * SIZE + x] = a * (1 - wy) + b * wy;
    }
  }
  return out;
}

/** N PNGs per colour type, written by pngjs. */
function makePngs(): Record<'RGB8' | 'RGBA8' | 'G8', Uint8Array[]> {
  const x = parseNpy(new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/fmnist-2000/x.npy'))));
  const y = parseNpy(new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/fmnist-2000/y.npy'))));
  const xs = x.data as Uint8Array;
  const out = { RGB8: [] as Uint8Array[], RGBA8: [] as Uint8Array[], G8: [] as Uint8Array[] };
  for (let k = 0; k < N; k++) {
    const i = k % x.shape[0];
    const up = upscale(xs.subarray(i * 784, (i + 1) * 784));
    const hue = (Number(y.data[i]) / 10) * 2 * Math.PI;
    const tint = [0.5 + 0.5 * Math.cos(hue), 0.5 + 0.5 * Math.cos(hue - 2.1), 0.5 + 0.5 * Math.cos(hue + 2.1)];
    const bg = [30 + 40 * tint[2], 60 + 30 * tint[0], 90 + 50 * tint[1]];
    const png = new PNG({ width: SIZE, height: SIZE });
    for (let p = 0; p < SIZE * SIZE; p++) {
      const v = up[p] / 255;
      for (let c = 0; c < 3; c++) png.data[4 * p + c] = clamp8(bg[c] * (1 - v) + 255 * v * (0.35 + 0.65 * tint[c]));
      png.data[4 * p + 3] = 255;
    }
    const write = (colorType: 0 | 2 | 6) => new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true }));
    out.RGB8.push(write(2));
    out.RGBA8.push(write(6));
    out.G8.push(write(0));
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timePerImage(files: Uint8Array[], decode: (b: Uint8Array) => unknown): number {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (const f of files) decode(f);
    times.push((performance.now() - t0) / files.length);
  }
  return median(times);
}

const sets = makePngs();
console.log(`PNG decode, ${N} images of ${SIZE}×${SIZE} per row, median of ${ROUNDS} rounds (ms/image), Node ${process.version}`);
console.log('| PNGs (pngjs) | mean file size | decodeImage | fast-png decode only |');
console.log('|---|---|---|---|');
for (const [name, files] of Object.entries(sets)) {
  timePerImage(files.slice(0, 20), (b) => decodeImage(b)); // warm-up
  timePerImage(files.slice(0, 20), (b) => fastPngDecode(b, { checkCrc: true }));
  const ours = timePerImage(files, (b) => decodeImage(b));
  const fp = timePerImage(files, (b) => fastPngDecode(b, { checkCrc: true }));
  const kb = files.reduce((s, f) => s + f.length, 0) / files.length / 1024;
  console.log(`| ${name} | ${kb.toFixed(1)} KiB | ${ours.toFixed(3)} | ${fp.toFixed(3)} |`);
}
