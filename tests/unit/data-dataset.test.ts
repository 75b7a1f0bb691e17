import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { DatasetConfig } from '../../src/core/config/types';
import { loadBatch, openDataset, subset, type OpenedDataset } from '../../src/core/data/dataset';
import { encodeIdx } from '../../src/core/data/idx';
import { MemorySource } from '../../src/core/data/memory-source';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import { pathKind } from '../../src/core/data/source';
import { FsSource } from '../../src/node/fs-source';
import type { Dataset } from '../../src/core/types';

const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fs = new FsSource(fixturesDir);
const fixture = (p: string) => new Uint8Array(readFileSync(fixturesDir + p));

const FMNIST_NORM = [{ type: 'normalization' as const, mean: 72.93, std: 90.015 }];
const OCR_NORM = [{ type: 'normalization' as const, mean: 127.5, std: 127.5 }];
const cfg = (c: Partial<DatasetConfig> & { data_source: string }): DatasetConfig => ({ color: 'rgb', preprocessing: [], ...c });

async function all(ds: Dataset) {
  const out = [];
  for (let i = 0; i < ds.size; i++) out.push(await ds.get(i));
  return out;
}

/** Index of the first differing element (-1 when equal); much faster than toEqual on big arrays. */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('image folder vs .npy', () => {
  it('Fashion-MNIST: the folder and the .npy give identical tensors and labels (gray, 72.93/90.015)', async () => {
    const opts = { sampleShape: [1, 28, 28], layout: 'NCHW' as const };
    const folder = await openDataset(fs, cfg({ data_source: 'fmnist-img-40/', color: 'gray', preprocessing: FMNIST_NORM }), opts);
    const npy = await openDataset(fs, cfg({ data_source: 'fmnist-40-x.npy', labels: 'fmnist-40-y.npy', color: 'gray', preprocessing: FMNIST_NORM }), opts);
    expect(folder.kind).toBe('images');
    expect(npy.kind).toBe('npy');
    expect(folder.size).toBe(40);
    expect(npy.size).toBe(40);
    expect(folder.sampleShape).toEqual([1, 28, 28]);
    expect(folder.classNames).toEqual(['0_tshirt_top', '1_trouser', '2_pullover', '3_dress', '4_coat', '5_sandal', '6_shirt', '7_sneaker', '8_bag', '9_ankle_boot']);
    expect(folder.files.slice(0, 2)).toEqual(['fmnist-img-40/0_tshirt_top/00019.png', 'fmnist-img-40/0_tshirt_top/00027.png']);
    expect(folder.hasLabels && npy.hasLabels).toBe(true);
    const a = await all(folder);
    const b = await all(npy);
    for (let i = 0; i < 40; i++) {
      expect(a[i].label).toBe(Math.floor(i / 4));
      expect(b[i].label).toBe(a[i].label);
      expect(firstDiff(a[i].input, b[i].input)).toBe(-1);
    }
    // value check: pixel 0 of sample 0 is (p − 72.93) / 90.015
    const raw = parseNpy(fixture('fmnist-40-x.npy')).data[0] as number;
    expect(a[0].input[0]).toBeCloseTo((raw - 72.93) / 90.015, 6);
    expect(Math.max(...a[5].input)).toBeCloseTo((255 - 72.93) / 90.015, 1);
  });

  it('OCR: RGB PNGs read as BGR match the BGR .npy (127.5/127.5), NCHW and NHWC', async () => {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const shape = layout === 'NCHW' ? [3, 48, 192] : [48, 192, 3];
      const folder = await openDataset(fs, cfg({ data_source: 'ocr-img-4', color: 'bgr', preprocessing: OCR_NORM }), { sampleShape: shape, layout });
      const npy = await openDataset(fs, cfg({ data_source: 'ocr-4-x.npy', labels: 'ocr-4-y.npy', color: 'bgr', preprocessing: OCR_NORM }), { sampleShape: shape, layout });
      expect(folder.classNames).toEqual(['0', '180']);
      const a = await all(folder);
      const b = await all(npy);
      expect(a.map((s) => s.label)).toEqual([0, 0, 1, 1]);
      expect(b.map((s) => s.label)).toEqual([0, 0, 1, 1]);
      for (let i = 0; i < 4; i++) expect(firstDiff(a[i].input, b[i].input)).toBe(-1);
      expect(a[0].input.every((v) => v >= -1 && v <= 1)).toBe(true);
    }
  });

  it('infers dynamic dims from the first image', async () => {
    const ds = await openDataset(fs, cfg({ data_source: 'ocr-img-4', color: 'bgr' }), { sampleShape: [3, -1, -1], layout: 'NCHW' });
    expect(ds.sampleShape).toEqual([3, 48, 192]);
    expect((await ds.get(3)).input.length).toBe(3 * 48 * 192);
  });
});

describe('IDX and other array inputs', () => {
  const x = parseNpy(fixture('fmnist-40-x.npy'));
  const y = parseNpy(fixture('fmnist-40-y.npy'));
  const labels8 = Uint8Array.from(y.data as BigInt64Array, Number);

  it('IDX images + IDX labels equal the .npy dataset', async () => {
    const mem = new MemorySource({
      'mnist/t-images-idx3-ubyte': encodeIdx([40, 28, 28], x.data as Uint8Array),
      'mnist/t-labels-idx1-ubyte': encodeIdx([40], labels8),
      'x.npy': fixture('fmnist-40-x.npy'),
    });
    const opts = { sampleShape: [1, 28, 28], layout: 'NCHW' as const };
    const idx = await openDataset(mem, cfg({ data_source: 'mnist/t-images-idx3-ubyte', labels: 'mnist/t-labels-idx1-ubyte', color: 'gray', preprocessing: FMNIST_NORM }), opts);
    const npy = await openDataset(mem, cfg({ data_source: 'x.npy', color: 'gray', preprocessing: FMNIST_NORM }), opts);
    expect(idx.kind).toBe('idx');
    expect(npy.hasLabels).toBe(false);
    expect((await npy.get(7)).label).toBe(-1);
    const s = await idx.get(7);
    expect(s.label).toBe(labels8[7]);
    expect(firstDiff(s.input, (await npy.get(7)).input)).toBe(-1);
  });

  it('feeds float inputs as they are, with normalization only', async () => {
    const data = Float32Array.from({ length: 2 * 4 }, (_, i) => i);
    const mem = new MemorySource({
      'f.npy': encodeNpy({ dtype: 'f4', shape: [2, 2, 2], data }),
      'f64.npy': encodeNpy({ dtype: 'f8', shape: [2, 1, 2, 2], data: Float64Array.from(data) }),
    });
    const ds = await openDataset(mem, cfg({ data_source: 'f.npy', preprocessing: [{ type: 'normalization', mean: 1, std: 2 }] }), { sampleShape: [1, 2, 2], layout: 'NCHW' });
    expect(ds.sampleShape).toEqual([1, 2, 2]);
    expect(Array.from((await ds.get(1)).input)).toEqual([1.5, 2, 2.5, 3]);
    const d2 = await openDataset(mem, cfg({ data_source: 'f64.npy' }), { sampleShape: [1, 2, 2], layout: 'NCHW' });
    expect(Array.from((await d2.get(0)).input)).toEqual([0, 1, 2, 3]);
    expect((await errorOf(openDataset(mem, cfg({ data_source: 'f.npy' }), { sampleShape: [1, 3, 3], layout: 'NCHW' }))).message).toMatch(
      /^f\.npy: preprocessed sample is 2×2 \(NCHW\) but the model input expects 1×3×3/,
    );
    expect(
      (await errorOf(openDataset(mem, cfg({ data_source: 'f.npy', preprocessing: [{ type: 'resize', size: 2 }] }), { sampleShape: [1, 2, 2], layout: 'NCHW' }))).message,
    ).toMatch(/f\.npy: dataset\.preprocessing\[0\]: 'resize' applies to uint8 images only/);
  });

  it('reads uint8 [N,C,H,W] arrays', async () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]); // one sample, C=3, H=1, W=2
    const mem = new MemorySource({ 'c.npy': encodeNpy({ dtype: 'u1', shape: [1, 3, 1, 2], data }) });
    const ds = await openDataset(mem, cfg({ data_source: 'c.npy' }), { sampleShape: [3, 1, 2], layout: 'NCHW' });
    expect(Array.from((await ds.get(0)).input)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('folder variants and validation', () => {
  const png = (w: number, h: number, v = 0) => encodePng({ width: w, height: h, data: new Uint8Array(w * h).fill(v), channels: 1, depth: 8 });

  it('labels file lists images and labels; folders without classes are unlabelled', async () => {
    const mem = new MemorySource({
      'imgs/b.png': png(2, 2, 20),
      'imgs/a.png': png(2, 2, 10),
      'imgs/notes.txt': new TextEncoder().encode('x'),
      'lab.txt': new TextEncoder().encode('b.png 3\na.png 1\n'),
    });
    const opts = { sampleShape: [1, 2, 2], layout: 'NCHW' as const };
    const listed = await openDataset(mem, cfg({ data_source: 'imgs', labels: 'lab.txt', color: 'gray' }), opts);
    expect(listed.hasLabels).toBe(true);
    expect((await all(listed)).map((s) => [s.label, s.input[0]])).toEqual([
      [3, 20],
      [1, 10],
    ]);
    const flat = await openDataset(mem, cfg({ data_source: 'imgs', color: 'gray' }), opts);
    expect(flat.hasLabels).toBe(false);
    expect((await all(flat)).map((s) => [s.label, s.input[0]])).toEqual([
      [-1, 10],
      [-1, 20],
    ]);
    expect(flat.warnings.join()).toMatch(/unlabelled/);
  });

  it('allows one class (with a warning) and recurses into class folders', async () => {
    const mem = new MemorySource({ 'd/only/x/2.png': png(2, 2), 'd/only/1.png': png(2, 2) });
    const ds = await openDataset(mem, cfg({ data_source: 'd', color: 'gray' }), { sampleShape: [1, 2, 2], layout: 'NCHW' });
    expect(ds.files).toEqual(['d/only/1.png', 'd/only/x/2.png']);
    expect(ds.warnings.join()).toMatch(/only one class/);
  });

  it('mixed image sizes are fine after a resize, an error naming the file without one', async () => {
    const mem = new MemorySource({ 'm/0/a.png': png(4, 4, 50), 'm/1/b.png': png(6, 3, 50) });
    const ok = await openDataset(mem, cfg({ data_source: 'm', color: 'gray', preprocessing: [{ type: 'resize', size: 2 }] }), { sampleShape: [1, 2, 2], layout: 'NCHW' });
    expect(Array.from((await ok.get(1)).input)).toEqual([50, 50, 50, 50]);
    const bad = await openDataset(mem, cfg({ data_source: 'm', color: 'gray' }), { sampleShape: [1, 4, 4], layout: 'NCHW' });
    expect((await errorOf(bad.get(1))).message).toMatch(/^m\/1\/b\.png: preprocessed sample is 1×3×6 \(NCHW\) but the model input expects 1×4×4/);
  });

  it('errors: missing source, no images, corrupt image, bad dtype, count mismatch', async () => {
    const good = fixture('fmnist-img-40/1_trouser/00002.png');
    const corrupt = good.slice();
    corrupt.fill(0x55, 40, 80);
    const mem = new MemorySource({
      'empty/readme.txt': new Uint8Array(1),
      'bad/0/a.png': good,
      'bad/0/b.png': corrupt,
      'c8.npy': encodeNpy({ dtype: 'f4', shape: [1, 2], data: new Float32Array(2) }).map((v, i, a) => (i < 60 && a[i] === 0x66 && a[i + 1] === 0x34 ? 0x63 : v)),
      'x.npy': fixture('fmnist-40-x.npy'),
      'y3.npy': encodeNpy({ dtype: 'i8', shape: [3], data: BigInt64Array.from([0n, 1n, 2n]) }),
    });
    const opts = { sampleShape: [1, 28, 28], layout: 'NCHW' as const };
    const open = (c: Partial<DatasetConfig> & { data_source: string }) => errorOf(openDataset(mem, cfg({ color: 'gray', ...c }), opts));
    expect((await open({ data_source: 'nope' })).message).toMatch(/^nope: dataset\.data_source: not found in memory/);
    expect((await open({ data_source: 'empty' })).message).toMatch(/^empty: dataset\.data_source: holds no PNG or JPEG images/);
    expect((await open({ data_source: 'c8.npy' })).message).toMatch(/^c8\.npy: unsupported dtype '<c4'/);
    const mismatch = await open({ data_source: 'x.npy', labels: 'y3.npy' });
    expect(mismatch.message).toMatch(/y3\.npy: dataset\.labels: 3 labels in y3\.npy but 40 inputs in x\.npy \(expected 40 labels\)/);
    const ds = await openDataset(mem, cfg({ data_source: 'bad', color: 'gray' }), opts);
    expect((await errorOf(ds.get(1))).message).toMatch(/^bad\/0\/b\.png: corrupt or unsupported PNG image/);
    expect((await errorOf(ds.get(2))).message).toMatch(/out of range/);
  });
});

describe('fingerprint, subset, loadBatch, sources', () => {
  const opts = { sampleShape: [1, 28, 28], layout: 'NCHW' as const };
  const c = cfg({ data_source: 'fmnist-img-40', color: 'gray', preprocessing: FMNIST_NORM });

  it('fingerprints are stable, content-based and config-sensitive', async () => {
    const f1 = await (await openDataset(fs, c, opts)).fingerprint();
    expect(f1).toMatch(/^[0-9a-f]{64}$/);
    expect(await (await openDataset(fs, c, opts)).fingerprint()).toBe(f1);
    // the same files elsewhere (in memory, another folder name) → same fingerprint
    const mem = new MemorySource();
    const folder = await openDataset(fs, c, opts);
    for (const p of folder.files) mem.add(p.replace('fmnist-img-40/', 'copy/'), fixture(p));
    const copy = await openDataset(mem, { ...c, data_source: 'copy' }, opts);
    expect(await copy.fingerprint()).toBe(f1);
    // a changed byte or a changed config → different
    mem.add('copy/0_tshirt_top/00019.png', fixture('fmnist-img-40/1_trouser/00002.png'));
    expect(await (await openDataset(mem, { ...c, data_source: 'copy' }, opts)).fingerprint()).not.toBe(f1);
    const other = await openDataset(fs, { ...c, preprocessing: [{ type: 'normalization', mean: 0, std: 255 }] }, opts);
    expect(await other.fingerprint()).not.toBe(f1);
  });

  it('subset and loadBatch', async () => {
    const ds: OpenedDataset = await openDataset(fs, c, opts);
    const sub = subset(ds, [39, 0, 5]);
    expect(sub.size).toBe(3);
    expect((await sub.get(0)).label).toBe(9);
    expect(await sub.fingerprint()).not.toBe(await ds.fingerprint());
    expect(await subset(ds, [39, 0, 5]).fingerprint()).toBe(await sub.fingerprint());
    expect(() => subset(ds, [40])).toThrow(/out of range/);
    const batch = await loadBatch(sub, [0, 1, 2]);
    expect(batch.dims).toEqual([3, 1, 28, 28]);
    expect(Array.from(batch.labels)).toEqual([9, 0, 1]);
    expect(firstDiff(batch.input.subarray(784, 1568), (await ds.get(0)).input)).toBe(-1);
    // get(0) hands out a copy: mutating it does not leak into later reads
    (await ds.get(0)).input.fill(0);
    expect(firstDiff(batch.input.subarray(784, 1568), (await ds.get(0)).input)).toBe(-1);
  });

  it('MemorySource and FsSource list, read and report kinds', async () => {
    const mem = new MemorySource({ 'a/b/c.bin': Uint8Array.from([1]), './a/d.bin': Uint8Array.from([2]) });
    expect((await mem.list('a')).sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([
      { name: 'b', kind: 'dir' },
      { name: 'd.bin', kind: 'file' },
    ]);
    expect(Array.from(await mem.read('a//d.bin'))).toEqual([2]);
    expect(await mem.exists('a/b')).toBe(true);
    expect(await mem.exists('a/x')).toBe(false);
    expect(await pathKind(mem, 'a/b/c.bin')).toBe('file');
    expect(await pathKind(fs, 'ocr-img-4/0')).toBe('dir');
    expect(await pathKind(fs, 'ocr-4-y.npy')).toBe('file');
    expect(await pathKind(fs, 'missing')).toBe(null);
    expect((await fs.list('ocr-img-4')).map((e) => e.name).sort()).toEqual(['0', '180']);
    await expect(mem.read('zz')).rejects.toThrow(/no such file: zz/);
  });
});
