// The resume record of an AAQ run, the same for the CLI (a snapshot folder) and the studio
// (IndexedDB): the fingerprints a resume must match and the run's counts so far. It is written just
// before each run state and keeps the counts for the state being written and for the one before,
// each keyed by a hash of that state, so a kill between the two writes still resumes with the
// counts that belong to the state in the store.
import { assertResumable } from '../algorithms/accuracy-aware';
import type { QuantizationBackend } from '../algorithms/backend';
import type { AaqRunState } from '../algorithms/history';
import type { AccuracyAwareParams } from '../config/types';
import { fnv1a64 } from '../data/hash';
import { QuantizeError, type SnapshotStore } from '../types';

export interface Counts {
  inferences: number;
  sessions: number;
}

export type Fingerprints = { model: string; data: string; config: string };

export interface RunRecord {
  fingerprints: Fingerprints;
  counts: Counts;
  checkpoints?: { key: string; counts: Counts }[];
}

/** Where a run's snapshots are: the store, the run's id in it, and the keys of its record and state. */
export interface RunSnapshots {
  store: SnapshotStore;
  runId: string;
  /** Key of the RunRecord (default 'meta'). */
  recordKey?: string;
  /** How the run and its keys are named in messages (a folder and its files; a browser run). */
  names: { run: string; key(key: string): string; expected: string };
}

export interface ResumePoint {
  state: AaqRunState;
  counts: Counts;
  record: RunRecord;
}

const recordKey = (s: RunSnapshots) => s.recordKey ?? 'meta';

/** Hash of a run state as written (JSON text). */
export const stateKey = (state: unknown): string => fnv1a64(new TextEncoder().encode(JSON.stringify(state)));

/** The record to write before checkpointing `state` with `counts`. */
export function nextRecord(prev: RunRecord, state: unknown, counts: Counts): RunRecord {
  const last = prev.checkpoints?.[prev.checkpoints.length - 1];
  return { fingerprints: prev.fingerprints, counts, checkpoints: [...(last ? [last] : []), { key: stateKey(state), counts }] };
}

/** A fresh run: earlier snapshots of the run are removed and a record with zero counts written. */
export async function startRecord(snap: RunSnapshots, fingerprints: Fingerprints, clear = true): Promise<RunRecord> {
  if (clear) await snap.store.delete(snap.runId);
  const record: RunRecord = { fingerprints, counts: { inferences: 0, sessions: 0 }, checkpoints: [] };
  await snap.store.put(snap.runId, recordKey(snap), record);
  return record;
}

/** Writes the record for `state` and then `state` itself. */
export async function checkpoint(snap: RunSnapshots, record: RunRecord, state: AaqRunState, counts: Counts): Promise<RunRecord> {
  const next = nextRecord(record, state, counts);
  await snap.store.put(snap.runId, recordKey(snap), next);
  await snap.store.put(snap.runId, 'state', state);
  return next;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The state and counts to resume from, checked before anything is written: the record and state
 * must be readable, taken with the same model, data and config, and the state one the algorithm
 * can continue. Otherwise a QuantizeError naming the run or the file.
 */
export async function resumePoint(snap: RunSnapshots, fingerprints: Fingerprints, backend: QuantizationBackend, params: AccuracyAwareParams): Promise<ResumePoint> {
  const { store, runId, names } = snap;
  const expected = names.expected;
  const record = await store.get<unknown>(runId, recordKey(snap));
  const state = await store.get<unknown>(runId, 'state');
  if (record === undefined || state === undefined) throw new QuantizeError('no run snapshot in this folder', { file: names.run, expected });
  const fp = isObj(record) ? record.fingerprints : undefined;
  const counts = isObj(record) ? record.counts : undefined;
  if (!isObj(fp) || !isObj(counts) || typeof counts.inferences !== 'number' || typeof counts.sessions !== 'number') {
    throw new QuantizeError('is not a run record (no fingerprints or counts)', { file: names.key(recordKey(snap)), expected });
  }
  for (const k of ['model', 'data', 'config'] as const) {
    if (fp[k] !== fingerprints[k]) {
      throw new QuantizeError(`the snapshot was taken with ${k === 'data' ? 'other data' : `a different ${k}`}; refusing to resume`, {
        file: names.run,
        expected: `the same ${k} as the interrupted run`,
      });
    }
  }
  try {
    assertResumable(state, backend, params);
  } catch (e) {
    throw QuantizeError.inFile(e, names.key('state'));
  }
  const key = stateKey(state);
  const rawCps = (record as { checkpoints?: unknown }).checkpoints;
  const cps = Array.isArray(rawCps) ? (rawCps as { key?: unknown; counts?: Counts }[]) : [];
  const match = cps.find((c) => c.key === key)?.counts;
  const use = match ?? { inferences: counts.inferences, sessions: counts.sessions };
  return {
    state,
    counts: { inferences: use.inferences, sessions: use.sessions },
    record: { fingerprints, counts: use, checkpoints: match ? [{ key, counts: match }] : [] },
  };
}
