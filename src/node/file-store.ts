// Snapshot store on the file system: one folder per run, one JSON file (or .bin) per key.
// Writes are atomic (temp file + fsync + rename), so a kill during a write leaves the previous
// snapshot intact.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { QuantizeError, type SnapshotStore } from '../core/types';

const safe = (k: string) => k.replace(/[^A-Za-z0-9._-]/g, '_');

export class FileSnapshotStore implements SnapshotStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Where a key lives; `create` makes its folder (writes only: reading creates nothing). */
  path(runId: string, key: string, ext = '.json', create = false): string {
    const d = join(this.dir, safe(runId));
    if (create) mkdirSync(d, { recursive: true });
    return join(d, `${safe(key)}${ext}`);
  }

  private atomicWrite(path: string, data: Uint8Array): void {
    const tmp = `${path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < data.byteLength) off += writeSync(fd, data, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }

  async put(runId: string, key: string, value: unknown): Promise<void> {
    this.atomicWrite(this.path(runId, key, '.json', true), new TextEncoder().encode(JSON.stringify(value)));
  }

  /** The stored value; a file that is not JSON (damaged, or not ours) is a QuantizeError naming it. */
  async get<T = unknown>(runId: string, key: string): Promise<T | undefined> {
    const p = this.path(runId, key, '.json');
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as T;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new QuantizeError(`snapshot cannot be read (${why})`, { file: p, expected: 'a JSON snapshot written by aaq quantize' });
    }
  }

  async putBytes(runId: string, key: string, bytes: Uint8Array): Promise<void> {
    this.atomicWrite(this.path(runId, key, '.bin', true), bytes);
  }

  async getBytes(runId: string, key: string): Promise<Uint8Array | undefined> {
    const p = this.path(runId, key, '.bin');
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined;
  }

  async list(): Promise<string[]> {
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  }

  async delete(runId: string): Promise<void> {
    rmSync(join(this.dir, safe(runId)), { recursive: true, force: true });
  }
}
