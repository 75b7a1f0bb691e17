// Decode speed and pixel parity: the project's pure-JS decoders (jpeg-js, and src/core/data/png.ts on
// fflate's one-shot inflate, through src/core/data/image.ts) against Squoosh's WebAssembly codecs as published by jSquash
// (@jsquash/jpeg = MozJPEG/libjpeg-turbo, @jsquash/png = the Rust png crate), on 224×224 images.
//
//   npx tsx bench/decode/compare.ts [--rounds 7] [--fmnist 24]
//
// The @jsquash packages are not project dependencies. Install them without saving
// (`npm install --no-save --ignore-scripts @jsquash/jpeg@1.6.0 @jsquash/png@3.1.1`) or point
// JSQUASH_DIR at a folder whose node_modules holds them. In Node the .wasm files are read from
// disk and passed in as compiled modules (their own loaders would fetch() a URL): nothing is
// downloaded at run time.
//
// Test images: Fashion-MNIST rows (tests/fixtures/fmnist-2000/x.npy) upscaled bilinearly to
// 224×224 and tinted per class (so chroma is not flat), the same rows as gray, and synthetic
// photo-like scenes (smooth colour gradients, soft shading, hard-edged shapes, sensor-like noise).
// JPEGs come from jpeg-js's encoder (baseline, 4:4:4) and from MozJPEG (4:2:0 and 4:4:4, baseline
// and progressive, gray), several qualities; PNGs from fast-png (RGB, gray, 16-bit, palette) and
// from the Rust png crate (RGBA).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { encode as encodePng } from 'fast-png';
import * as jpeg from 'jpeg-js';
import { decodeImage, type RawImage } from '../../src/core/data/image';
import { parseNpy } from '../../src/core/data/npy';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIZE = 224;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const ROUNDS = arg('rounds', 7);
const N_FMNIST = arg('fmnist', 24);

// ---------------------------------------------------------------- the WebAssembly codecs

interface Rgba {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}
interface MozJpegDec {
  decode(data: Uint8Array, preserveOrientation: boolean): Rgba | null;
}
interface MozJpegEnc {
  encode(data: Uint8Array, width: number, height: number, opts: Record<string, unknown>): Uint8Array;
}
type EmFactory<M> = (opts: Record<string, unknown>) => Promise<M>;
interface SquooshPng {
  initSync(m: WebAssembly.Module): unknown;
  decode(data: Uint8Array): Rgba;
  encode(data: Uint8Array, width: number, height: number, bitDepth: number): Uint8Array;
}

function jsquashDir(pkg: string): string {
  for (const base of [process.env.JSQUASH_DIR, ROOT].filter((d): d is string => !!d)) {
    const d = join(base, 'node_modules', '@jsquash', pkg);
    if (existsSync(join(d, 'package.json'))) return d;
  }
  console.error(
    `@jsquash/${pkg} not found. Run \`npm install --no-save --ignore-scripts @jsquash/jpeg@1.6.0 @jsquash/png@3.1.1\`, ` +
      'or set JSQUASH_DIR to a folder whose node_modules holds them.',
  );
  process.exit(2);
}

const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;

/** An Emscripten module instantiated from a wasm file on disk (what jSquash's `init(module)` does). */
async function emscripten<M>(js: string, wasm: string): Promise<M> {
  const factory = ((await import(pathToFileURL(js).href)) as { default: EmFactory<M> }).default;
  const mod = await WebAssembly.compile(readFileSync(wasm));
  return factory({
    noInitialRun: true,
    instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => {
      const inst = new WebAssembly.Instance(mod, imports);
      done(inst);
      return inst.exports;
    },
  });
}

// ---------------------------------------------------------------- test images

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Bilinear resize of a gray image (half-pixel centres, like OpenCV's INTER_LINEAR). */
function resizeGray(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): Float64Array {
  const out = new Float64Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * (sh / dh) - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy),
      y1 = Math.min(y0 + 1, sh - 1),
      wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * (sw / dw) - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx),
        x1 = Math.min(x0 + 1, sw - 1),
        wx = fx - x0;
      const a = src[y0 * sw + x0] * (1 - wx) + src[y0 * sw + x1] * wx;
      const b = src[y1 * sw + x0] * (1 - wx) + src[y1 * sw + x1] * wx;
      out[y * dw + x] = a * (1 - wy) + b * wy;
    }
  }
  return out;
}

interface Source {
  name: string;
  /** RGB, SIZE×SIZE×3. */
  rgb: Uint8Array;
  gray: boolean;
}

function fmnistSources(n: number): Source[] {
  const x = parseNpy(new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/fmnist-2000/x.npy'))));
  const y = parseNpy(new Uint8Array(readFileSync(join(ROOT, 'tests/fixtures/fmnist-2000/y.npy'))));
  const xs = x.data as Uint8Array;
  const total = x.shape[0];
  const out: Source[] = [];
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * total) / n);
    const label = Number(y.data[i]);
    const up = resizeGray(xs.subarray(i * 784, (i + 1) * 784), 28, 28, SIZE, SIZE);
    // A per-class tint over a coloured background: strong chroma edges where the garment is.
    const hue = (label / 10) * 2 * Math.PI;
    const tint = [0.5 + 0.5 * Math.cos(hue), 0.5 + 0.5 * Math.cos(hue - 2.1), 0.5 + 0.5 * Math.cos(hue + 2.1)];
    const bg = [30 + 40 * tint[2], 60 + 30 * tint[0], 90 + 50 * tint[1]];
    const rgb = new Uint8Array(SIZE * SIZE * 3);
    const gray = new Uint8Array(SIZE * SIZE * 3);
    for (let p = 0; p < SIZE * SIZE; p++) {
      const v = up[p] / 255;
      for (let c = 0; c < 3; c++) {
        rgb[3 * p + c] = clamp8(bg[c] * (1 - v) + 255 * v * (0.35 + 0.65 * tint[c]));
        gray[3 * p + c] = clamp8(up[p]);
      }
    }
    out.push({ name: `fmnist${i}`, rgb, gray: false }, { name: `fmnist${i}-gray`, rgb: gray, gray: true });
  }
  return out;
}

function syntheticSources(n: number, seed = 1000): Source[] {
  const out: Source[] = [];
  for (let s = 0; s < n; s++) {
    const r = rng(seed + s);
    const c0 = [r() * 255, r() * 255, r() * 255];
    const c1 = [r() * 255, r() * 255, r() * 255];
    const ang = r() * Math.PI;
    const [dx, dy] = [Math.cos(ang), Math.sin(ang)];
    const blobs = Array.from({ length: 3 + Math.floor(r() * 4) }, () => ({
      x: r() * SIZE,
      y: r() * SIZE,
      rad: 10 + r() * 50,
      col: [r() * 255, r() * 255, r() * 255],
      hard: r() < 0.5,
    }));
    const freq = 0.02 + r() * 0.1;
    const noise = 2 + r() * 6;
    const rgb = new Uint8Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const t = Math.min(Math.max(((x - SIZE / 2) * dx + (y - SIZE / 2) * dy) / SIZE + 0.5, 0), 1);
        const shade = 0.85 + 0.15 * Math.sin(x * freq) * Math.cos(y * freq * 0.7);
        const px = [0, 1, 2].map((c) => (c0[c] * (1 - t) + c1[c] * t) * shade);
        for (const b of blobs) {
          const d = Math.hypot(x - b.x, y - b.y);
          const a = b.hard ? (d < b.rad ? 1 : 0) : Math.exp(-((d / b.rad) ** 2));
          for (let c = 0; c < 3; c++) px[c] = px[c] * (1 - a) + b.col[c] * a;
        }
        for (let c = 0; c < 3; c++) rgb[(y * SIZE + x) * 3 + c] = clamp8(px[c] + (r() - 0.5) * 2 * noise);
      }
    }
    out.push({ name: `synth${s}`, rgb, gray: false });
  }
  return out;
}

function toRgba(rgb: Uint8Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = rgb[3 * i];
    out[4 * i + 1] = rgb[3 * i + 1];
    out[4 * i + 2] = rgb[3 * i + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}

function toGray(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = rgb[3 * i];
  return out;
}

// ---------------------------------------------------------------- decoding to RawImage

/** What image.ts would have to do with the WASM codecs' RGBA output: RGB (or gray) HWC bytes. */
function rgbaToRaw(d: Rgba, channels: 1 | 3): RawImage {
  const n = d.width * d.height;
  const out = new Uint8Array(n * channels);
  const s = d.data;
  if (channels === 3) {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      out[3 * i] = s[j];
      out[3 * i + 1] = s[j + 1];
      out[3 * i + 2] = s[j + 2];
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = s[4 * i];
  }
  return { width: d.width, height: d.height, channels, data: out };
}

/** PNG colour type from IHDR (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA). */
const pngColorType = (b: Uint8Array) => b[25];

interface Diff {
  bytes: number;
  differing: number;
  maxAbs: number;
  /** Histogram of |a-b|: [0, 1, 2, 3-4, 5-8, >8]. */
  hist: number[];
  sumAbs: number;
}

function diff(a: Uint8Array, b: Uint8Array, into?: Diff): Diff {
  const d = into ?? { bytes: 0, differing: 0, maxAbs: 0, hist: [0, 0, 0, 0, 0, 0], sumAbs: 0 };
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  d.bytes += a.length;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    d.sumAbs += e;
    if (e) {
      d.differing++;
      if (e > d.maxAbs) d.maxAbs = e;
    }
    d.hist[e <= 2 ? e : e <= 4 ? 3 : e <= 8 ? 4 : 5]++;
  }
  return d;
}

/** Mean time per image (ms) of decoding `files` once each: median over ROUNDS rounds, after warm-up. */
function timePerImage(files: Uint8Array[], f: (b: Uint8Array) => unknown): number {
  for (let w = 0; w < 2; w++) for (const b of files) f(b);
  const t: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (const b of files) f(b);
    t.push((performance.now() - t0) / files.length);
  }
  t.sort((x, y) => x - y);
  return t[Math.floor(t.length / 2)];
}

// ---------------------------------------------------------------- main

interface Variant {
  name: string;
  kind: 'jpeg' | 'png';
  files: Uint8Array[];
  sources: Source[];
  /** PNG only (lossless): the exact RawImage bytes a correct decoder must return for file k. */
  expected?: (k: number) => Uint8Array;
}

async function main(): Promise<void> {
  const jpegDir = jsquashDir('jpeg');
  const pngDir = jsquashDir('png');

  let t0 = performance.now();
  const dec = await emscripten<MozJpegDec>(join(jpegDir, 'codec/dec/mozjpeg_dec.js'), join(jpegDir, 'codec/dec/mozjpeg_dec.wasm'));
  const initJpegMs = performance.now() - t0;
  const enc = await emscripten<MozJpegEnc>(join(jpegDir, 'codec/enc/mozjpeg_enc.js'), join(jpegDir, 'codec/enc/mozjpeg_enc.wasm'));
  t0 = performance.now();
  const png = (await import(pathToFileURL(join(pngDir, 'codec/pkg/squoosh_png.js')).href)) as SquooshPng;
  png.initSync(await WebAssembly.compile(readFileSync(join(pngDir, 'codec/pkg/squoosh_png_bg.wasm'))));
  const initPngMs = performance.now() - t0;

  const fm = fmnistSources(N_FMNIST);
  const colour = [...fm.filter((s) => !s.gray), ...syntheticSources(8)];
  const grays = fm.filter((s) => s.gray);
  const fmColour = fm.filter((s) => !s.gray);
  const synth = colour.filter((s) => s.name.startsWith('synth'));

  const moz =
    (q: number, sub: 1 | 2, extra: Record<string, unknown> = {}) =>
    (s: Source) =>
      enc
        .encode(toRgba(s.rgb), SIZE, SIZE, {
          quality: q,
          baseline: true,
          arithmetic: false,
          progressive: false,
          optimize_coding: true,
          smoothing: 0,
          color_space: 3,
          quant_table: 3,
          trellis_multipass: false,
          trellis_opt_zero: false,
          trellis_opt_table: false,
          trellis_loops: 1,
          auto_subsample: false,
          chroma_subsample: sub,
          separate_chroma_quality: false,
          chroma_quality: q,
          ...extra,
        })
        .slice();
  const jpegjs = (q: number) => (s: Source) => new Uint8Array(jpeg.encode({ width: SIZE, height: SIZE, data: toRgba(s.rgb) }, q).data);

  const variants: Variant[] = [];
  const add = (name: string, kind: 'jpeg' | 'png', sources: Source[], encode: (s: Source) => Uint8Array, expected?: (s: Source) => Uint8Array) =>
    variants.push({ name, kind, sources, files: sources.map(encode), expected: expected && ((k) => expected(sources[k])) });
  const rgbOf = (s: Source) => s.rgb;

  for (const [label, srcs] of [
    ['fmnist', fmColour],
    ['synth', synth],
  ] as const) {
    for (const q of [50, 75, 90, 95]) add(`JPEG ${label} jpeg-js q${q} 4:4:4`, 'jpeg', srcs, jpegjs(q));
    for (const q of [50, 75, 90, 95]) add(`JPEG ${label} mozjpeg q${q} 4:2:0`, 'jpeg', srcs, moz(q, 2));
    add(`JPEG ${label} mozjpeg q90 4:4:4`, 'jpeg', srcs, moz(90, 1));
    add(`JPEG ${label} mozjpeg q75 4:2:0 progressive`, 'jpeg', srcs, moz(75, 2, { baseline: false, progressive: true }));
  }
  add('JPEG fmnist-gray mozjpeg q90 gray', 'jpeg', grays, moz(90, 2, { color_space: 1 }));
  add('PNG colour fast-png RGB8', 'png', colour, (s) => encodePng({ width: SIZE, height: SIZE, data: s.rgb, channels: 3, depth: 8 }), rgbOf);
  add('PNG colour png-crate RGBA8', 'png', colour, (s) => png.encode(toRgba(s.rgb), SIZE, SIZE, 8).slice(), rgbOf);
  // More noisy scenes through the png crate: its encoder writes long literal-only runs, which
  // fflate's streaming inflater (fast-png's, decodeImage's before png.ts) truncates past 128 KiB of output.
  add('PNG synth×48 png-crate RGBA8', 'png', syntheticSources(48, 2000), (s) => png.encode(toRgba(s.rgb), SIZE, SIZE, 8).slice(), rgbOf);
  add(
    'PNG fmnist-gray fast-png G8',
    'png',
    grays,
    (s) => encodePng({ width: SIZE, height: SIZE, data: toGray(s.rgb), channels: 1, depth: 8 }),
    (s) => toGray(s.rgb),
  );
  add(
    'PNG colour fast-png RGB16',
    'png',
    colour,
    (s) => {
      const d16 = new Uint16Array(s.rgb.length);
      for (let i = 0; i < d16.length; i++) d16[i] = (s.rgb[i] << 8) | (i % 251); // a low byte that is not a copy of the high one
      return encodePng({ width: SIZE, height: SIZE, data: d16, channels: 3, depth: 16 });
    },
    rgbOf,
  );
  const palette = Array.from({ length: 16 }, (_, i) => [i * 17, 255 - i * 17, (i * 53) % 256]);
  add(
    'PNG fmnist-gray fast-png palette',
    'png',
    grays,
    (s) => encodePng({ width: SIZE, height: SIZE, data: toGray(s.rgb).map((v) => v >> 4), channels: 1, depth: 8, palette }),
    (s) => Uint8Array.from(Array.from(toGray(s.rgb)).flatMap((v) => palette[v >> 4])),
  );

  console.log(`# Decode: pure JS vs WebAssembly (${SIZE}×${SIZE}, Node ${process.version}, ${ROUNDS} rounds, median)\n`);
  console.log(
    `jpeg-js ${version(join(ROOT, 'node_modules/jpeg-js'))}, PNG: src/core/data/png.ts on fflate ${version(join(ROOT, 'node_modules/fflate'))}; ` +
      `@jsquash/jpeg ${version(jpegDir)} (MozJPEG), @jsquash/png ${version(pngDir)} (Rust png crate). ` +
      `WASM init (compile + instantiate): jpeg dec ${initJpegMs.toFixed(1)} ms, png ${initPngMs.toFixed(1)} ms.\n`,
  );
  console.log(
    '| set | n | KiB/img | JS ms/img | WASM ms/img | WASM raw ms/img | speed-up | identical | differing bytes | max abs | |Δ|=1 | |Δ|=2 | |Δ|>2 | vs source: JPEG MAE JS / WASM; PNG wrong images JS / WASM |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|--:|--:|--:|');

  const totals = { jpeg: { js: 0, wasm: 0, n: 0 }, png: { js: 0, wasm: 0, n: 0 } };
  for (const v of variants) {
    const wasmRaw = v.kind === 'jpeg' ? (b: Uint8Array) => dec.decode(b, false)! : (b: Uint8Array) => png.decode(b);
    const channelsOf = (b: Uint8Array): 1 | 3 => (v.kind === 'png' && [0, 4].includes(pngColorType(b)) ? 1 : 3);
    const wasmFull = (b: Uint8Array) => rgbaToRaw(wasmRaw(b), channelsOf(b));

    const d = diff(new Uint8Array(0), new Uint8Array(0));
    let errJs = 0,
      errWasm = 0,
      nSrc = 0,
      wrongJs = 0,
      wrongWasm = 0,
      threwJs = 0;
    const ok: Uint8Array[] = []; // files both decoders decode without throwing (timed)
    v.files.forEach((b, k) => {
      const w = wasmFull(b);
      let a: RawImage;
      try {
        a = decodeImage(b);
      } catch {
        threwJs++;
        wrongJs++;
        return;
      }
      ok.push(b);
      if (a.width !== w.width || a.height !== w.height || a.channels !== w.channels)
        throw new Error(`${v.name}: shape ${a.width}×${a.height}×${a.channels} vs ${w.width}×${w.height}×${w.channels}`);
      diff(a.data, w.data, d);
      if (v.expected) {
        const want = v.expected(k);
        if (diff(a.data, want).differing) wrongJs++;
        if (diff(w.data, want).differing) wrongWasm++;
      } else {
        const src = v.sources[k].rgb;
        errJs += diff(a.data, src).sumAbs;
        errWasm += diff(w.data, src).sumAbs;
        nSrc += src.length;
      }
    });
    const tJs = timePerImage(ok, (b) => decodeImage(b));
    const tWasm = timePerImage(ok, wasmFull);
    const tRaw = timePerImage(ok, wasmRaw);
    const tot = totals[v.kind];
    tot.js += tJs * ok.length;
    tot.wasm += tWasm * ok.length;
    tot.n += ok.length;
    const kib = v.files.reduce((s, b) => s + b.length, 0) / v.files.length / 1024;
    const gt2 = d.hist[3] + d.hist[4] + d.hist[5];
    const vsSrc = v.expected ? `${wrongJs}${threwJs ? ` (${threwJs} threw)` : ''} / ${wrongWasm}` : `${(errJs / nSrc).toFixed(3)} / ${(errWasm / nSrc).toFixed(3)}`;
    console.log(
      `| ${v.name} | ${v.files.length} | ${kib.toFixed(1)} | ${tJs.toFixed(3)} | ${tWasm.toFixed(3)} | ${tRaw.toFixed(3)} | ` +
        `${(tJs / tWasm).toFixed(2)}× | ${d.differing === 0 && !threwJs ? 'yes' : 'NO'} | ${d.differing} / ${d.bytes} | ${d.maxAbs} | ` +
        `${d.hist[1]} | ${d.hist[2]} | ${gt2} | ${vsSrc} |`,
    );
  }
  console.log('');
  for (const k of ['jpeg', 'png'] as const) {
    const t = totals[k];
    console.log(`${k.toUpperCase()} overall: JS ${(t.js / t.n).toFixed(3)} ms/img, WASM ${(t.wasm / t.n).toFixed(3)} ms/img (${(t.js / t.wasm).toFixed(2)}×), ${t.n} images`);
  }
  console.log(
    '\nJS = decodeImage() from src/core/data/image.ts; WASM = codec decode + RGBA→RGB (gray PNGs: →1 channel), i.e. the same RawImage; ' +
      'WASM raw = the codec call alone (RGBA out). Times and byte counts cover the files both decode without an error. ' +
      'JPEG MAE: mean |decoded − original pixel| per byte; PNG wrong images: decodes that are not exactly the encoded pixels.',
  );
}

await main();
