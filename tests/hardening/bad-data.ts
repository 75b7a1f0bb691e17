// Bad data, generated from tests/fixtures/fmnist-40-x.npy / -y.npy and fmnist-img-40/.
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import { BAD, IMG40, X40, Y40, baseConfig, writeJson } from './cli-harness';
import { prngBytes, type BadCase } from './bad-models';

const x40 = () => parseNpy(new Uint8Array(readFileSync(X40)), X40);
const y40 = () => Int32Array.from(parseNpy(new Uint8Array(readFileSync(Y40)), Y40).data as BigInt64Array, Number);

/** A .npy with any descr string (for dtypes encodeNpy does not write). */
function rawNpy(descr: string, shape: number[], body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((11 + header.length) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

const labelsNpy = (v: ArrayLike<number>) => encodeNpy({ dtype: 'i8', shape: [v.length], data: BigInt64Array.from(Array.from(v), (n) => BigInt(n)) });

/** A copy of the 40-image folder (class subfolders) to damage. */
function imgCopy(dir: string): string {
  const d = join(dir, 'images');
  cpSync(IMG40, d, { recursive: true });
  return d;
}
const classDirs = (d: string) =>
  readdirSync(d)
    .sort()
    .map((c) => join(d, c));
const pngOf = (w: number, h: number) => encodePng({ width: w, height: h, channels: 1, depth: 8, data: new Uint8Array(w * h).fill(128) });

/** `files(dir)` writes the data; returns config overrides and the names the message must hold. */
function dataCase(name: string, files: (dir: string) => { data?: string; labels?: string | null; dataset?: Record<string, unknown> }, names: string[]): BadCase {
  return {
    name,
    make(dir) {
      const over = files(dir);
      return { args: ['-c', writeJson(join(dir, 'config.json'), baseConfig(over))], names };
    },
  };
}

export const badDataCases: BadCase[] = [
  dataCase('empty data folder', (d) => (mkdirSync(join(d, 'empty')), { data: join(d, 'empty'), labels: null }), ['empty']),
  dataCase(
    'folder of non-images',
    (d) => {
      mkdirSync(join(d, 'docs/a'), { recursive: true });
      writeFileSync(join(d, 'docs/a/notes.txt'), 'hello');
      return { data: join(d, 'docs'), labels: null };
    },
    ['docs'],
  ),
  dataCase(
    'one class folder',
    (d) => {
      const img = imgCopy(d);
      for (const c of classDirs(img).slice(1)) rmSync(c, { recursive: true });
      return { data: img, labels: null };
    },
    ['images'],
  ),
  dataCase(
    'labels out of the model range (.npy)',
    (d) => {
      writeFileSync(join(d, 'y-plus-10.npy'), labelsNpy(y40().map((v) => v + 10)));
      return { labels: join(d, 'y-plus-10.npy') };
    },
    ['y-plus-10.npy'],
  ),
  dataCase(
    'more class folders than model classes',
    (d) => {
      const img = imgCopy(d);
      cpSync(classDirs(img)[9], join(img, '9_zz_extra'), { recursive: true });
      return { data: img, labels: null };
    },
    ['images'],
  ),
  dataCase(
    'corrupt image, first sample (corpus)',
    (d) => {
      const img = imgCopy(d);
      const c0 = classDirs(img)[0];
      writeFileSync(join(c0, '00000.png'), readFileSync(join(BAD, 'corrupt.png')));
      return { data: img, labels: null };
    },
    ['00000.png'],
  ),
  dataCase(
    'corrupt image, late sample',
    (d) => {
      const img = imgCopy(d);
      writeFileSync(join(classDirs(img)[9], 'zzz.png'), readFileSync(join(BAD, 'corrupt.png')));
      return { data: img, labels: null, dataset: {} };
    },
    ['zzz.png'],
  ),
  dataCase(
    'text file named .png',
    (d) => {
      const img = imgCopy(d);
      writeFileSync(join(classDirs(img)[3], '00001.png'), 'not an image');
      return { data: img, labels: null };
    },
    ['00001.png'],
  ),
  dataCase(
    'zero-byte .jpg',
    (d) => {
      const img = imgCopy(d);
      writeFileSync(join(classDirs(img)[5], 'blank.jpg'), new Uint8Array(0));
      return { data: img, labels: null };
    },
    ['blank.jpg'],
  ),
  dataCase(
    'unreadable image (listed, missing)',
    (d) => {
      const img = imgCopy(d);
      const first = readdirSync(classDirs(img)[0]).sort()[0];
      writeFileSync(join(d, 'list.txt'), `${readdirSync(img).sort()[0]}/${first} 0\n1_trouser/gone.png 1\n`);
      return { data: img, labels: join(d, 'list.txt') };
    },
    ['gone.png'],
  ),
  dataCase(
    'mixed image sizes',
    (d) => {
      const img = imgCopy(d);
      writeFileSync(join(classDirs(img)[2], 'big.png'), pngOf(32, 30));
      return { data: img, labels: null };
    },
    ['big.png'],
  ),
  dataCase(
    '.npy complex dtype',
    (d) => {
      writeFileSync(join(d, 'complex.npy'), rawNpy('<c8', [40, 28, 28], new Uint8Array(40 * 784 * 8)));
      return { data: join(d, 'complex.npy') };
    },
    ['complex.npy'],
  ),
  dataCase(
    '.npy string dtype',
    (d) => {
      writeFileSync(join(d, 'strings.npy'), rawNpy('<U4', [40], new Uint8Array(40 * 16)));
      return { data: join(d, 'strings.npy') };
    },
    ['strings.npy'],
  ),
  dataCase(
    '.npy uint8 flattened [40, 784]',
    (d) => {
      writeFileSync(join(d, 'flat.npy'), encodeNpy({ dtype: 'u1', shape: [40, 784], data: x40().data }));
      return { data: join(d, 'flat.npy') };
    },
    ['flat.npy'],
  ),
  dataCase(
    '.npy float [40, 3, 28, 28] for a 1-channel model',
    (d) => {
      writeFileSync(join(d, 'rgb.npy'), encodeNpy({ dtype: 'f4', shape: [40, 3, 28, 28], data: new Float32Array(40 * 3 * 784) }));
      return { data: join(d, 'rgb.npy'), dataset: { preprocessing: [] } };
    },
    ['rgb.npy'],
  ),
  dataCase(
    '.npy 1-D inputs',
    (d) => {
      writeFileSync(join(d, 'vector.npy'), encodeNpy({ dtype: 'f4', shape: [40], data: new Float32Array(40) }));
      return { data: join(d, 'vector.npy'), dataset: { preprocessing: [] } };
    },
    ['vector.npy'],
  ),
  dataCase(
    '.npy truncated body',
    (d) => {
      const b = readFileSync(X40);
      writeFileSync(join(d, 'short.npy'), b.subarray(0, b.length - 100));
      return { data: join(d, 'short.npy') };
    },
    ['short.npy'],
  ),
  dataCase(
    '.npy header only, garbled',
    (d) => {
      writeFileSync(join(d, 'garbled.npy'), new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0x7f, 1, 2, 3]));
      return { data: join(d, 'garbled.npy') };
    },
    ['garbled.npy'],
  ),
  dataCase(
    'labels one-hot [40, 10]',
    (d) => {
      const y = y40();
      const oh = new Float32Array(400);
      y.forEach((v, i) => (oh[i * 10 + v] = 1));
      writeFileSync(join(d, 'onehot.npy'), encodeNpy({ dtype: 'f4', shape: [40, 10], data: oh }));
      return { labels: join(d, 'onehot.npy') };
    },
    ['onehot.npy'],
  ),
  dataCase(
    '39 labels for 40 inputs',
    (d) => {
      writeFileSync(join(d, 'y39.npy'), labelsNpy(y40().subarray(0, 39)));
      return { labels: join(d, 'y39.npy') };
    },
    ['y39.npy'],
  ),
  dataCase(
    'non-integer labels',
    (d) => {
      writeFileSync(join(d, 'halves.npy'), encodeNpy({ dtype: 'f4', shape: [40], data: new Float32Array(40).fill(0.5) }));
      return { labels: join(d, 'halves.npy') };
    },
    ['halves.npy'],
  ),
  dataCase(
    'negative labels (text)',
    (d) => {
      writeFileSync(join(d, 'labels.txt'), Array.from(y40(), (v, i) => (i === 3 ? '-1' : String(v))).join('\n'));
      return { labels: join(d, 'labels.txt') };
    },
    ['labels.txt'],
  ),
  dataCase('labels file missing', (d) => ({ labels: join(d, 'nope.npy') }), ['nope.npy']),
  dataCase('data_source missing', (d) => ({ data: join(d, 'nowhere') }), ['nowhere']),
  dataCase('data_source is one image', () => ({ data: join(IMG40, readdirSync(IMG40).sort()[0], '00019.png'), labels: null }), ['00019.png']),
  dataCase(
    'data_source is random bytes',
    (d) => {
      writeFileSync(join(d, 'blob.bin'), prngBytes(5000, 99));
      return { data: join(d, 'blob.bin') };
    },
    ['blob.bin'],
  ),
  dataCase('color rgb for a gray model', () => ({ data: IMG40, labels: null, dataset: { color: 'rgb' } }), ['fmnist-img-40', 'color']),
];
