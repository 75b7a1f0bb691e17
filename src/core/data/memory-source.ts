// An in-memory FileSource (path → bytes); directories are implied by the paths. Used by browsers
// (files picked or dropped by the user) and by tests.

import { normPath, type FileEntry, type FileSource } from './source';

export class MemorySource implements FileSource {
  readonly name: string;
  private readonly files = new Map<string, Uint8Array>();

  constructor(files: Record<string, Uint8Array> | Map<string, Uint8Array> = {}, name = 'memory') {
    this.name = name;
    const entries = files instanceof Map ? files.entries() : Object.entries(files);
    for (const [p, bytes] of entries) this.add(p, bytes);
  }

  add(path: string, bytes: Uint8Array): void {
    const p = normPath(path);
    if (p === '') throw new Error(`${this.name}: empty file path`);
    this.files.set(p, bytes);
  }

  delete(path: string): void {
    this.files.delete(normPath(path));
  }

  /** All file paths, sorted. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  async list(dir: string): Promise<FileEntry[]> {
    const d = normPath(dir);
    const prefix = d === '' ? '' : d + '/';
    if (d !== '' && this.files.has(d)) throw new Error(`${this.name}: ${d} is a file, not a directory`);
    const seen = new Map<string, FileEntry['kind']>();
    for (const p of this.files.keys()) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = slash < 0 ? rest : rest.slice(0, slash);
      const kind = slash < 0 ? 'file' : 'dir';
      if (!seen.has(name) || kind === 'dir') seen.set(name, kind);
    }
    if (seen.size === 0 && d !== '') throw new Error(`${this.name}: no such directory: ${d}`);
    return [...seen].map(([name, kind]) => ({ name, kind }));
  }

  async read(path: string): Promise<Uint8Array> {
    const bytes = this.files.get(normPath(path));
    if (!bytes) throw new Error(`${this.name}: no such file: ${normPath(path)}`);
    return bytes;
  }

  async exists(path: string): Promise<boolean> {
    return (await this.kind(path)) !== null;
  }

  async kind(path: string): Promise<'file' | 'dir' | null> {
    const p = normPath(path);
    if (p === '') return 'dir';
    if (this.files.has(p)) return 'file';
    const prefix = p + '/';
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return 'dir';
    return null;
  }
}
