// The snapshot folder of a CLI AAQ run: a fresh one (cleared, fingerprints written) or, with
// --resume, an existing one checked before anything is written: it must exist, hold readable
// snapshots taken with the same model, data and config, and a run state the algorithm can
// continue. A refused folder is left exactly as it was.
import { existsSync, statSync } from 'node:fs';
import { assertResumable, type AaqRunState } from '../core/algorithms/accuracy-aware';
import type { AccuracyAwareParams } from '../core/config/types';
import { QuantizeError } from '../core/types';
import { FileSnapshotStore } from './file-store';
import { fnv1a64 } from '../core/data/hash';
import type { RunSetup } from './run-setup';

export interface Counts {
  inferences: number;
  sessions: number;
}

/**
 * `meta.json` is written just before each `state.json`. It keeps the counts for the state being
 * written and for the one before, each keyed by a hash of that state, so a kill between the two
 * writes still resumes with the counts that belong to the state on disk.
 */
export interface RunMeta {
  fingerprints: RunSetup['fingerprints'];
  counts: Counts;
  checkpoints?: { key: string; counts: Counts }[];
}

/** Hash of a run state as written (JSON text). */
export const stateKey = (state: unknown): string => fnv1a64(new TextEncoder().encode(JSON.stringify(state)));

/** The meta record to write before checkpointing `state` with `counts`. */
export function nextMeta(prev: RunMeta, state: unknown, counts: Counts): RunMeta {
  const last = prev.checkpoints?.[prev.checkpoints.length - 1];
  return { fingerprints: prev.fingerprints, counts, checkpoints: [...(last ? [last] : []), { key: stateKey(state), counts }] };
}

const EXPECTED = 'a snapshot folder written by aaq quantize (--snapshots)';
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A fresh run's store: earlier snapshots in `dir` are removed. */
export async function freshSnapshots(dir: string, setup: RunSetup): Promise<{ store: FileSnapshotStore; meta: RunMeta }> {
  const store = new FileSnapshotStore(dir);
  await store.delete('run');
  const meta: RunMeta = { fingerprints: setup.fingerprints, counts: { inferences: 0, sessions: 0 }, checkpoints: [] };
  await store.put('run', 'meta', meta);
  return { store, meta };
}

/** The store, state and counts to resume from `dir`; a QuantizeError naming the folder or file otherwise. */
export async function resumeSnapshots(dir: string, setup: RunSetup, params: AccuracyAwareParams): Promise<{ store: FileSnapshotStore; state: AaqRunState; counts: Counts; meta: RunMeta }> {
  if (!existsSync(dir)) throw new QuantizeError('no such folder', { file: dir, expected: EXPECTED });
  if (!statSync(dir).isDirectory()) throw new QuantizeError('is not a folder', { file: dir, expected: EXPECTED });
  const store = new FileSnapshotStore(dir);
  const meta = await store.get<unknown>('run', 'meta');
  const state = await store.get<unknown>('run', 'state');
  if (meta === undefined || state === undefined) throw new QuantizeError('no run snapshot in this folder', { file: dir, expected: EXPECTED });
  const metaFile = store.path('run', 'meta');
  const fp = isObj(meta) ? meta.fingerprints : undefined;
  const counts = isObj(meta) ? meta.counts : undefined;
  if (!isObj(fp) || !isObj(counts) || typeof counts.inferences !== 'number' || typeof counts.sessions !== 'number') {
    throw new QuantizeError('is not a run record (no fingerprints or counts)', { file: metaFile, expected: 'a snapshot written by aaq quantize' });
  }
  for (const k of ['model', 'data', 'config'] as const) {
    if (fp[k] !== setup.fingerprints[k]) {
      throw new QuantizeError(`the snapshot was taken with ${k === 'data' ? 'other data' : `a different ${k}`}; refusing to resume`, { file: dir, expected: `the same ${k} as the interrupted run` });
    }
  }
  try {
    assertResumable(state, setup.backend, params);
  } catch (e) {
    throw QuantizeError.inFile(e, store.path('run', 'state'));
  }
  const key = stateKey(state);
  const rawCps = (meta as { checkpoints?: unknown }).checkpoints;
  const cps = Array.isArray(rawCps) ? (rawCps as { key?: unknown; counts?: Counts }[]) : [];
  const match = cps.find((c) => c.key === key)?.counts;
  const use = match ?? { inferences: counts.inferences, sessions: counts.sessions };
  return { store, state, counts: { inferences: use.inferences, sessions: use.sessions }, meta: { fingerprints: setup.fingerprints, counts: use, checkpoints: match ? [{ key, counts: match }] : [] } };
}
