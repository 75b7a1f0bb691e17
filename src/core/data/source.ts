// File access for datasets, abstracted so the same core code runs in Node (fs), in browsers and in
// web workers (in-memory files, File System Access handles). Paths are relative and '/'-separated.

export interface FileEntry {
  name: string;
  kind: 'file' | 'dir';
}

export interface FileSource {
  /** Shown in messages (a root directory, "memory", a picked folder's name). */
  name: string;
  /** Immediate children of a directory ('' or '.' = the root). Order is not significant. */
  list(dir: string): Promise<FileEntry[]>;
  read(path: string): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /** How a path is named in messages (e.g. the absolute path on disk); the path itself without it. */
  resolve?(path: string): string;
  /** Optional fast path for `pathKind`; sources without it are asked through `list(parent)`. */
  kind?(path: string): Promise<'file' | 'dir' | null>;
}

/** Normalises a relative path: '/'-separated, no '.', no empty segments, '..' folded where possible. */
export function normPath(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(seg);
  }
  return (abs ? '/' : '') + out.join('/');
}

export function joinPath(...parts: string[]): string {
  return normPath(parts.filter((p) => p !== '').join('/'));
}

export function dirname(p: string): string {
  const n = normPath(p);
  const i = n.lastIndexOf('/');
  return i < 0 ? '' : i === 0 ? '/' : n.slice(0, i);
}

export function basename(p: string): string {
  const n = normPath(p);
  return n.slice(n.lastIndexOf('/') + 1);
}

/** Whether `path` is a file, a directory, or missing. */
export async function pathKind(source: FileSource, path: string): Promise<'file' | 'dir' | null> {
  if (source.kind) return source.kind(path);
  const p = normPath(path);
  if (p === '' || p === '/') return 'dir';
  if (!(await source.exists(p))) return null;
  const name = basename(p);
  const entries = await source.list(dirname(p));
  const hit = entries.find((e) => e.name === name);
  return hit ? hit.kind : null;
}
