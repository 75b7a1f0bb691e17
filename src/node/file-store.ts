// Snapshot store on the file system: one folder per run, one JSON file (or .bin) per key.
// Writes are atomic (temp file + fsync + rename), so a kill during a write leaves the previous
// snapshot intact.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotStore } from '../core/types';

const safe = (k: string) => k.replace(/[^A-Za-z0-9._-]/g, '_');

export class FileSnapshotStore implements SnapshotStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private path(runId: string, key: string, ext: string): string {
    const d = join(this.dir, safe(runId));
    mkdirSync(d, { recursive: true });
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
    this.atomicWrite(this.path(runId, key, '.json'), new TextEncoder().encode(JSON.stringify(value)));
  }

  async get<T = unknown>(runId: string, key: string): Promise<T | undefined> {
    const p = this.path(runId, key, '.json');
    if (!existsSync(p)) return undefined;
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  }

  async putBytes(runId: string, key: string, bytes: Uint8Array): Promise<void> {
    this.atomicWrite(this.path(runId, key, '.bin'), bytes);
  }

  async getBytes(runId: string, key: string): Promise<Uint8Array | undefined> {
    const p = this.path(runId, key, '.bin');
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined;
  }

  async list(): Promise<string[]> {
    return readdirSync(this.dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  }

  async delete(runId: string): Promise<void> {
    rmSync(join(this.dir, safe(runId)), { recursive: true, force: true });
  }
}
