// Turning what people pick or drop into the worker's DataInput: image folders (folder picker via
// <input webkitdirectory>, or a dropped directory), .npy or IDX arrays with their labels file.

import type { DataFile, DataInput } from '../../../workers/protocol';

export interface PickedData {
  input: DataInput;
  /** engine.dataset.data_source, relative to the data root. */
  dataSource: string;
  /** engine.dataset.labels, when a labels file was found. */
  labels?: string;
  kind: 'folder' | 'arrays';
}

const IMAGE = /\.(png|jpe?g)$/i;
const ARRAY = /\.npy$|idx\d-ubyte$|-ubyte$|\.idx\d?$/i;

/** Files from an <input type=file> (webkitdirectory gives each file's path under the folder). */
export function filesFromList(list: FileList | File[]): DataFile[] {
  return Array.from(list).map((f) => ({ path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, file: f }));
}

type Entry = FileSystemEntry;

function readAll(dir: FileSystemDirectoryEntry): Promise<Entry[]> {
  const reader = dir.createReader();
  const out: Entry[] = [];
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: Entry, prefix: string, out: DataFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ path, file });
  } else if (entry.isDirectory) {
    for (const e of await readAll(entry as FileSystemDirectoryEntry)) await walk(e, path, out);
  }
}

/** Files of a drop, directories walked recursively (paths start with the dropped folder's name). */
export async function filesFromDrop(dt: DataTransfer): Promise<DataFile[]> {
  const entries = Array.from(dt.items)
    .map((it) => (it.kind === 'file' ? it.webkitGetAsEntry?.() : null))
    .filter((e): e is Entry => !!e);
  if (entries.length === 0) return filesFromList(dt.files);
  const out: DataFile[] = [];
  for (const e of entries) await walk(e, '', out);
  return out;
}

async function head(file: Blob, n = 256): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(0, n).arrayBuffer());
}

/** Rank of an array file from its header (.npy or IDX); undefined when unknown. */
async function arrayRank(file: Blob): Promise<number | undefined> {
  const b = await head(file);
  if (b[0] === 0x93 && b[1] === 0x4e) {
    const text = new TextDecoder('latin1').decode(b);
    const m = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
    if (!m) return undefined;
    return m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean).length;
  }
  if (b[0] === 0 && b[1] === 0 && b[3] >= 1 && b[3] <= 4) return b[3];
  return undefined;
}

const hidden = (p: string) => p.split('/').some((s) => s.startsWith('.'));

/**
 * What the picked files are: an image folder (data_source = its top folder) or an inputs array
 * with an optional labels array (the 1-D one, or [N,1]).
 */
export async function classifyData(files: DataFile[], name?: string): Promise<PickedData> {
  const visible = files.filter((f) => !hidden(f.path));
  const images = visible.filter((f) => IMAGE.test(f.path));
  const arrays = visible.filter((f) => ARRAY.test(f.path) || /\.(txt|csv)$/i.test(f.path));
  if (images.length > 0 && images.length >= arrays.length) {
    const tops = new Set(images.map((f) => (f.path.includes('/') ? f.path.split('/')[0] : '')));
    const root = tops.size === 1 ? [...tops][0] : '';
    const kept = images;
    return { input: { name: name ?? (root || 'images'), files: kept }, dataSource: root || '.', kind: 'folder' };
  }
  const ranked = await Promise.all(arrays.map(async (f) => ({ f, rank: await arrayRank(f.file) })));
  const inputs = ranked.filter((r) => (r.rank ?? 0) >= 2);
  const labels = ranked.filter((r) => r.rank === 1 || (r.rank === undefined && /label|\.txt$/i.test(r.f.path)));
  if (inputs.length === 0) {
    throw new Error(
      images.length === 0 && arrays.length === 0
        ? 'No images (.png, .jpg) or arrays (.npy, IDX) among the dropped files.'
        : 'No inputs array found: pick a .npy or IDX file shaped [N, …] (and its labels file).',
    );
  }
  if (inputs.length > 1) throw new Error(`Several inputs arrays (${inputs.map((r) => r.f.path).join(', ')}): pick one inputs file and one labels file.`);
  if (labels.length > 1) throw new Error(`Several labels files (${labels.map((r) => r.f.path).join(', ')}): pick one.`);
  const x = inputs[0].f;
  const y = labels[0]?.f;
  return {
    input: { name: name ?? x.path.split('/').pop()!, files: y ? [x, y] : [x] },
    dataSource: x.path,
    labels: y?.path,
    kind: 'arrays',
  };
}
