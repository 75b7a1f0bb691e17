// FileSource over the local file system, rooted at a directory. Relative paths resolve against
// the root; absolute paths are used as they are (a CLI `--data /abs/path` keeps working).

import { readdir, readFile, stat } from 'node:fs/promises';
import * as nodePath from 'node:path';
import type { FileEntry, FileSource } from '../core/data/source';

export class FsSource implements FileSource {
  readonly name: string;
  readonly root: string;

  constructor(root: string = process.cwd()) {
    this.root = nodePath.resolve(root);
    this.name = this.root;
  }

  resolve(path: string): string {
    return nodePath.resolve(this.root, path === '' ? '.' : path);
  }

  async list(dir: string): Promise<FileEntry[]> {
    const abs = this.resolve(dir);
    const entries = await readdir(abs, { withFileTypes: true });
    const out: FileEntry[] = [];
    for (const e of entries) {
      if (e.isDirectory()) out.push({ name: e.name, kind: 'dir' });
      else if (e.isFile()) out.push({ name: e.name, kind: 'file' });
      else if (e.isSymbolicLink()) {
        const k = await this.kindAbs(nodePath.join(abs, e.name));
        if (k) out.push({ name: e.name, kind: k });
      }
    }
    return out;
  }

  async read(path: string): Promise<Uint8Array> {
    const buf = await readFile(this.resolve(path));
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.kind(path)) !== null;
  }

  async kind(path: string): Promise<'file' | 'dir' | null> {
    return this.kindAbs(this.resolve(path));
  }

  private async kindAbs(abs: string): Promise<'file' | 'dir' | null> {
    try {
      const s = await stat(abs);
      return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : null;
    } catch {
      return null;
    }
  }
}
