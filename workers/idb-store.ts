// Snapshot store in IndexedDB (idb-keyval), for browsers and web workers. One database, one object
// store; a record per (run, key). Values are structured-cloned, so plain JSON, Uint8Array and Blob
// (a picked data file) are stored as they are. Storage errors are never swallowed: a full quota
// becomes a StorageFullError whose message says what to do.

import { createStore, del, delMany, get, keys, set, type UseStore } from 'idb-keyval';
import type { SnapshotStore } from '../src/core/types';

export const IDB_DATABASE = 'aaq-studio';
export const IDB_STORE = 'snapshots';

/** The browser refused to store more (quota exceeded, or storage disabled). */
export class StorageFullError extends Error {
  constructor(what: string, cause: unknown) {
    super(
      `Browser storage is full: could not save ${what}. Delete past runs in the list of runs ` + '(or free space for this site in the browser settings), then resume the run.',
      { cause },
    );
    this.name = 'StorageFullError';
  }
}

const SEP = '\u0000';

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? '';
  const msg = e instanceof Error ? e.message : String(e);
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || /quota/i.test(msg);
}

/** Wraps any IndexedDB failure in a message naming the operation (quota → StorageFullError). */
function storageError(what: string, e: unknown): Error {
  if (isQuotaError(e)) return new StorageFullError(what, e);
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new Error(`Browser storage (IndexedDB) failed while saving ${what}: ${why}`, { cause: e });
}

export class IdbSnapshotStore implements SnapshotStore {
  private readonly store: UseStore;

  constructor(database = IDB_DATABASE, storeName = IDB_STORE) {
    this.store = createStore(database, storeName);
  }

  private key(runId: string, key: string): string {
    if (runId.includes(SEP) || key.includes(SEP)) throw new Error('run ids and keys cannot contain NUL');
    return `${runId}${SEP}${key}`;
  }

  async put(runId: string, key: string, value: unknown): Promise<void> {
    try {
      await set(this.key(runId, key), value, this.store);
    } catch (e) {
      throw storageError(`'${key}' of run ${runId}`, e);
    }
  }

  async get<T = unknown>(runId: string, key: string): Promise<T | undefined> {
    return (await get(this.key(runId, key), this.store)) as T | undefined;
  }

  async putBytes(runId: string, key: string, bytes: Uint8Array): Promise<void> {
    // A copy: the caller may reuse (or transfer) its buffer.
    await this.put(runId, key, bytes.slice());
  }

  async getBytes(runId: string, key: string): Promise<Uint8Array | undefined> {
    const v = await get(this.key(runId, key), this.store);
    if (v === undefined) return undefined;
    if (v instanceof Uint8Array) return v;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    if (typeof Blob !== 'undefined' && v instanceof Blob) return new Uint8Array(await v.arrayBuffer());
    throw new Error(`stored '${key}' of run ${runId} is not bytes`);
  }

  /** Keys stored for one run. */
  async keysOf(runId: string): Promise<string[]> {
    const prefix = runId + SEP;
    return (await keys(this.store))
      .map(String)
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length));
  }

  async list(): Promise<string[]> {
    const runs = new Set<string>();
    for (const k of await keys(this.store)) {
      const s = String(k);
      const i = s.indexOf(SEP);
      if (i > 0) runs.add(s.slice(0, i));
    }
    return [...runs].sort();
  }

  async delete(runId: string): Promise<void> {
    const prefix = runId + SEP;
    const mine = (await keys(this.store)).filter((k) => String(k).startsWith(prefix));
    if (mine.length === 1) await del(mine[0], this.store);
    else if (mine.length) await delMany(mine, this.store);
  }

  /** Storage used and available for this origin, when the browser tells (bytes). */
  static async estimate(): Promise<{ usage: number; quota: number } | undefined> {
    const nav = (globalThis as { navigator?: { storage?: StorageManager } }).navigator;
    if (!nav?.storage?.estimate) return undefined;
    const e = await nav.storage.estimate();
    return { usage: e.usage ?? 0, quota: e.quota ?? 0 };
  }
}
