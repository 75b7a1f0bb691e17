// Datasets from a FileSource: image folders, .npy inputs (+ labels), IDX images (+ labels).
// Samples are produced lazily by get(i); arrays are parsed once at open, images decoded per call.

import { QuantizeError, type Dataset, type Sample } from '../types';
import type { DatasetConfig } from '../config/types';
import { hashBytes, hashParts, hashString } from './hash';
import { isIdx, parseIdx } from './idx';
import { decodeImage, isImageFileName } from './image';
import { parseImageList, parseLabels } from './labels';
import { isNpy, parseNpy, product, type NpyArray } from './npy';
import { checkSampleShape, normalizeTensor, preprocessPixels, type Layout } from './preprocess';
import { basename, joinPath, normPath, pathKind, type FileSource } from './source';

export interface OpenDatasetOptions {
  /** Model input shape without the batch dim, in `layout`; -1 for a dynamic dim (taken from sample 0). */
  sampleShape: number[];
  /** The model's layout; wins over dataset.layout in the config (the caller resolves the two). */
  layout: Layout;
}

export interface OpenedDataset extends Dataset {
  readonly kind: 'images' | 'npy' | 'idx';
  readonly layout: Layout;
  /** Non-fatal notes (a single class, empty class folders, ignored files). */
  readonly warnings: string[];
  /** Paths of the inputs, relative to the source: one per image, or the array file. */
  readonly files: string[];
  /** Label of sample `index` (-1 when unlabelled) without decoding the sample. */
  label(index: number): number;
}

interface Backing {
  kind: OpenedDataset['kind'];
  size: number;
  hasLabels: boolean;
  classNames?: string[];
  warnings: string[];
  files: string[];
  /** Files whose bytes make up the fingerprint, with the name to hash them under. */
  content: { path: string; as: string }[];
  sample(i: number, shape: readonly number[] | undefined): Promise<{ data: Float32Array; dims: number[] }>;
  label(i: number): number;
}

export async function openDataset(source: FileSource, cfg: DatasetConfig, opts: OpenDatasetOptions): Promise<OpenedDataset> {
  const dataPath = normPath(cfg.data_source ?? '');
  if (!cfg.data_source) throw new QuantizeError('is empty', { field: 'dataset.data_source', expected: 'an image folder, a .npy file or an IDX images file' });
  const kind = await pathKind(source, dataPath);
  if (kind === null) {
    throw new QuantizeError(`not found in ${source.name}`, { file: dataPath, field: 'dataset.data_source', expected: 'an existing image folder, .npy file or IDX images file' });
  }
  const layout = opts.layout;
  const backing = kind === 'dir' ? await openImageFolder(source, dataPath, cfg, layout) : await openArrayFile(source, dataPath, cfg, layout);

  // Sample 0 validates the pipeline now and fixes dynamic dims.
  const first = await backing.sample(0, opts.sampleShape);
  const sampleShape = first.dims;
  let fp: Promise<string> | undefined;
  const ds: OpenedDataset = {
    kind: backing.kind,
    layout,
    size: backing.size,
    sampleShape,
    hasLabels: backing.hasLabels,
    classNames: backing.classNames,
    warnings: backing.warnings,
    files: backing.files,
    fingerprint() {
      fp ??= fingerprintOf(source, backing, cfg, layout, sampleShape);
      return fp;
    },
    label(index: number): number {
      checkIndex(index, backing.size, dataPath);
      return backing.label(index);
    },
    async get(index: number): Promise<Sample> {
      checkIndex(index, backing.size, dataPath);
      const s = index === 0 ? first : await backing.sample(index, sampleShape);
      return { input: index === 0 ? s.data.slice() : s.data, label: backing.label(index) };
    },
  };
  return ds;
}

function checkIndex(i: number, size: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= size) throw new RangeError(`${what}: sample index ${i} out of range [0, ${size})`);
}

async function fingerprintOf(source: FileSource, b: Backing, cfg: DatasetConfig, layout: Layout, shape: number[]): Promise<string> {
  // Paths are hashed relative to the data source, so moving the data keeps the fingerprint.
  const settings = JSON.stringify({ kind: b.kind, color: cfg.color, layout, shape, preprocessing: cfg.preprocessing ?? [] });
  const parts: string[] = [settings];
  for (const f of b.content) parts.push(`${f.as}\t${await hashBytes(await readOrFail(source, f.path))}`);
  return hashParts(parts);
}

// ---------------------------------------------------------------------------------------------
// Image folders

async function openImageFolder(source: FileSource, root: string, cfg: DatasetConfig, layout: Layout): Promise<Backing> {
  const warnings: string[] = [];
  let items: { path: string; label: number }[];
  let classNames: string[] | undefined;
  let hasLabels = true;
  const content: { path: string; as: string }[] = [];
  if (cfg.labels) {
    const lf = normPath(cfg.labels);
    const bytes = await readOrFail(source, lf, 'dataset.labels');
    if (isNpy(bytes) || isIdx(bytes)) {
      throw new QuantizeError('for an image folder, labels must be a text file', { file: lf, field: 'dataset.labels', expected: "'relative/path label' lines" });
    }
    items = parseImageList(bytes, lf).map((it) => ({ path: joinPath(root, it.path), label: it.label }));
    if (items.length === 0) throw new QuantizeError('lists no images', { file: lf, field: 'dataset.labels', expected: "'relative/path label' lines" });
    content.push({ path: lf, as: 'labels' });
  } else {
    const entries = visible(await source.list(root));
    const dirs = entries
      .filter((e) => e.kind === 'dir')
      .map((e) => e.name)
      .sort(byName);
    const rootImages = entries
      .filter((e) => e.kind === 'file' && isImageFileName(e.name))
      .map((e) => e.name)
      .sort(byName);
    items = [];
    if (dirs.length > 0) {
      classNames = dirs;
      for (const [ci, d] of dirs.entries()) {
        const files = await walkImages(source, joinPath(root, d));
        if (files.length === 0) warnings.push(`class folder '${d}' (index ${ci}) holds no images`);
        for (const f of files) items.push({ path: f, label: ci });
      }
      if (dirs.length === 1) warnings.push(`only one class folder ('${dirs[0]}'): every sample has label 0`);
      if (rootImages.length > 0) warnings.push(`${rootImages.length} image(s) directly in ${root || '.'} ignored (not in a class folder)`);
    } else {
      hasLabels = false;
      for (const f of rootImages) items.push({ path: joinPath(root, f), label: -1 });
      if (rootImages.length > 0) warnings.push(`no class subfolders in ${root || '.'}: samples are unlabelled`);
    }
    if (items.length === 0) {
      throw new QuantizeError('holds no PNG or JPEG images', {
        file: root || '.',
        field: 'dataset.data_source',
        expected: 'one subfolder per class with .png/.jpg/.jpeg files, or a labels file',
      });
    }
  }
  const prefix = root === '' ? '' : root + '/';
  for (const it of items) content.push({ path: it.path, as: it.path.startsWith(prefix) ? it.path.slice(prefix.length) : it.path });
  return {
    kind: 'images',
    size: items.length,
    hasLabels,
    classNames,
    warnings,
    files: items.map((it) => it.path),
    content,
    label: (i) => items[i].label,
    async sample(i, shape) {
      const path = items[i].path;
      const bytes = await readOrFail(source, path);
      const img = decodeImage(bytes, path);
      return preprocessPixels(img, { color: cfg.color ?? 'rgb', steps: cfg.preprocessing ?? [], layout, sampleShape: shape, file: path, inputOrder: 'rgb' });
    },
  };
}

function visible<T extends { name: string }>(entries: T[]): T[] {
  return entries.filter((e) => !e.name.startsWith('.'));
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Image files under `dir`, recursively: a folder's own files (sorted) before its subfolders (sorted). */
async function walkImages(source: FileSource, dir: string): Promise<string[]> {
  const entries = visible(await source.list(dir));
  const out = entries
    .filter((e) => e.kind === 'file' && isImageFileName(e.name))
    .map((e) => e.name)
    .sort(byName)
    .map((n) => joinPath(dir, n));
  for (const d of entries
    .filter((e) => e.kind === 'dir')
    .map((e) => e.name)
    .sort(byName))
    out.push(...(await walkImages(source, joinPath(dir, d))));
  return out;
}

async function readOrFail(source: FileSource, path: string, field?: string): Promise<Uint8Array> {
  try {
    return await source.read(path);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new QuantizeError(`cannot be read: ${why}`, { file: path, field, expected: 'a readable file' });
  }
}

// ---------------------------------------------------------------------------------------------
// Arrays: .npy and IDX

async function openArrayFile(source: FileSource, path: string, cfg: DatasetConfig, layout: Layout): Promise<Backing> {
  const bytes = await readOrFail(source, path, 'dataset.data_source');
  let arr: NpyArray;
  let kind: 'npy' | 'idx';
  if (isNpy(bytes)) [arr, kind] = [parseNpy(bytes, path), 'npy'];
  else if (isIdx(bytes) || /idx\d?-ubyte/i.test(basename(path))) [arr, kind] = [parseIdx(bytes, path), 'idx'];
  else if (isImageFileName(path)) {
    throw new QuantizeError('is a single image', { file: path, field: 'dataset.data_source', expected: 'an image folder, a .npy file or an IDX images file' });
  } else {
    throw new QuantizeError('is neither a .npy nor an IDX file', { file: path, field: 'dataset.data_source', expected: 'an image folder, a .npy file or an IDX images file' });
  }
  if (arr.shape.length < 2) {
    throw new QuantizeError(`inputs array has shape [${arr.shape.join(', ')}]`, { file: path, expected: 'a leading sample dimension N and at least one more' });
  }
  const n = arr.shape[0];
  if (n === 0) throw new QuantizeError('holds no samples (N = 0)', { file: path, field: 'dataset.data_source', expected: 'at least one sample' });
  const content = [{ path, as: 'inputs' }];
  let labels: Int32Array | undefined;
  if (cfg.labels) {
    const lf = normPath(cfg.labels);
    labels = parseLabels(await readOrFail(source, lf, 'dataset.labels'), lf);
    if (labels.length !== n) {
      throw new QuantizeError(`${labels.length} labels in ${lf} but ${n} inputs in ${path}`, { file: lf, field: 'dataset.labels', expected: `${n} labels` });
    }
    content.push({ path: lf, as: 'labels' });
  }
  const sample = arr.dtype === 'u1' ? pixelSampler(arr, path, cfg, layout) : tensorSampler(arr, path, cfg, layout);
  return {
    kind,
    size: n,
    hasLabels: labels !== undefined,
    warnings: [],
    files: [path],
    content,
    label: (i) => (labels ? labels[i] : -1),
    sample,
  };
}

/** uint8 image arrays [N,H,W], [N,H,W,C] or [N,C,H,W] (C = 1 or 3): the image pipeline, channels as stored. */
function pixelSampler(arr: NpyArray, path: string, cfg: DatasetConfig, layout: Layout): Backing['sample'] {
  const s = arr.shape;
  let h: number,
    w: number,
    c: number,
    chw = false;
  if (s.length === 3) [h, w, c] = [s[1], s[2], 1];
  else if (s.length === 4 && [1, 3, 4].includes(s[3])) [h, w, c] = [s[1], s[2], s[3]];
  else if (s.length === 4 && [1, 3].includes(s[1])) [c, h, w, chw] = [s[1], s[2], s[3], true];
  else {
    throw new QuantizeError(`uint8 inputs shaped [${s.join(', ')}] are not images`, {
      file: path,
      expected: 'uint8 images shaped [N,H,W], [N,H,W,C] or [N,C,H,W] with C = 1 or 3 (or float inputs shaped like the model input)',
    });
  }
  const data = arr.data as Uint8Array;
  const per = h * w * c;
  return async (i, shape) => {
    let px: Uint8Array = data.subarray(i * per, (i + 1) * per);
    if (chw && c > 1) {
      const hwc = new Uint8Array(per);
      for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) hwc[p * c + k] = px[k * h * w + p];
      px = hwc;
    }
    const file = `${path}[${i}]`;
    return preprocessPixels(
      { width: w, height: h, channels: c, data: px },
      {
        color: cfg.color ?? 'rgb',
        steps: cfg.preprocessing ?? [],
        layout,
        sampleShape: shape,
        file,
        inputOrder: 'as-is',
      },
    );
  };
}

/** Non-uint8 inputs: fed as they are (shaped like the model input), only `normalization` applied. */
function tensorSampler(arr: NpyArray, path: string, cfg: DatasetConfig, layout: Layout): Backing['sample'] {
  const steps = cfg.preprocessing ?? [];
  const bad = steps.findIndex((st) => st.type !== 'normalization');
  if (bad >= 0) {
    throw new QuantizeError(`'${steps[bad].type}' applies to uint8 images only; ${arr.dtype} inputs are fed as they are`, {
      file: path,
      field: `dataset.preprocessing[${bad}]`,
      expected: 'only normalization steps for non-uint8 inputs',
    });
  }
  const dims = arr.shape.slice(1);
  const per = product(dims);
  const data = arr.data;
  return async (i, shape) => {
    let outDims = dims;
    if (shape) {
      const squeeze = (d: readonly number[]) => d.filter((x) => x !== 1);
      const same = dims.length === shape.length && dims.every((d, k) => shape[k] < 0 || shape[k] === d);
      const squeezed = !same && !shape.includes(-1) && squeeze(dims).join() === squeeze(shape).join();
      if (!same && !squeezed) checkSampleShape(dims, shape, layout, path);
      outDims = same ? dims : [...shape];
    }
    const out = new Float32Array(per);
    const row = data.subarray(i * per, (i + 1) * per);
    if (row instanceof BigInt64Array) for (let k = 0; k < per; k++) out[k] = Number(row[k]);
    else out.set(row);
    for (const [k, st] of steps.entries()) normalizeTensor(out, outDims, layout, st.mean, st.std, `dataset.preprocessing[${k}]`);
    return { data: out, dims: [...outDims] };
  };
}

// ---------------------------------------------------------------------------------------------
// Subsets and batches

/** The samples at `indices` (in that order) as a dataset of their own. */
export function subset(ds: Dataset, indices: readonly number[]): Dataset {
  const idx = Int32Array.from(indices);
  for (const i of idx) checkIndex(i, ds.size, 'subset');
  if (idx.length !== indices.length || indices.some((v, k) => v !== idx[k])) throw new RangeError('subset: indices must be integers');
  let fp: Promise<string> | undefined;
  return {
    size: idx.length,
    sampleShape: ds.sampleShape,
    hasLabels: ds.hasLabels,
    classNames: ds.classNames,
    fingerprint() {
      fp ??= ds.fingerprint().then((parent) => hashString(`${parent}\nsubset:${Array.from(idx).join(',')}`));
      return fp;
    },
    get(i: number) {
      checkIndex(i, idx.length, 'subset');
      return ds.get(idx[i]);
    },
  };
}

/** Samples at `indices` stacked along a new batch dim: dims = [B, ...sampleShape]. */
export async function loadBatch(ds: Dataset, indices: readonly number[]): Promise<{ input: Float32Array; dims: number[]; labels: Int32Array }> {
  const per = product(ds.sampleShape);
  const input = new Float32Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  const samples = await Promise.all(indices.map((i) => ds.get(i)));
  samples.forEach((s, b) => {
    if (s.input.length !== per) {
      throw new QuantizeError(`sample ${indices[b]} has ${s.input.length} values, expected ${per} (${ds.sampleShape.join('×')})`);
    }
    input.set(s.input, b * per);
    labels[b] = s.label;
  });
  return { input, dims: [indices.length, ...ds.sampleShape], labels };
}
