// IdbSnapshotStore's error handling, in Node with idb-keyval mocked (no browser needed): a full
// quota becomes a StorageFullError that tells people what to do; other failures name the
// operation; nothing is swallowed. (Its normal operation is covered by the browser tests: every
// run and resume there goes through it.)

import { beforeEach, describe, expect, it, vi } from 'vitest';

const db = new Map<string, unknown>();
let failWith: unknown = null;

vi.mock('idb-keyval', () => ({
  createStore: () => 'store',
  get: async (k: string) => db.get(k),
  set: async (k: string, v: unknown) => {
    if (failWith) throw failWith;
    db.set(k, v);
  },
  del: async (k: string) => void db.delete(k),
  delMany: async (ks: string[]) => ks.forEach((k) => db.delete(k)),
  keys: async () => [...db.keys()],
}));

const { IdbSnapshotStore, StorageFullError } = await import('../../workers/idb-store');

describe('IdbSnapshotStore', () => {
  beforeEach(() => {
    db.clear();
    failWith = null;
  });

  it('stores, lists and deletes runs', async () => {
    const s = new IdbSnapshotStore();
    await s.put('run-a', 'meta', { x: 1 });
    await s.putBytes('run-a', 'model', new Uint8Array([1, 2, 3]));
    await s.put('run-b', 'state', { phase: 'rank' });
    expect(await s.list()).toEqual(['run-a', 'run-b']);
    expect(await s.get('run-a', 'meta')).toEqual({ x: 1 });
    expect(Array.from((await s.getBytes('run-a', 'model'))!)).toEqual([1, 2, 3]);
    expect(await s.keysOf('run-a')).toEqual(['meta', 'model']);
    await s.delete('run-a');
    expect(await s.list()).toEqual(['run-b']);
    expect(await s.get('run-a', 'meta')).toBeUndefined();
  });

  it('reports a full quota with a message people can act on', async () => {
    const s = new IdbSnapshotStore();
    failWith = Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
    const err = await s.put('run-a', 'state', { big: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/storage is full.*'state' of run run-a.*Delete past runs/);
  });

  it('names the operation on other storage failures', async () => {
    const s = new IdbSnapshotStore();
    failWith = Object.assign(new Error('Transaction aborted'), { name: 'AbortError' });
    await expect(s.putBytes('run-a', 'model', new Uint8Array(4))).rejects.toThrow(/IndexedDB\) failed while saving 'model' of run run-a: AbortError/);
  });
});
