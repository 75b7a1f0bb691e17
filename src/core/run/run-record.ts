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

/** The run's time so far, written with every checkpoint so that a resumed run's report and
 *  screens cover the whole run, not only its last part. */
export interface RunClock {
  /** When the run first started (ms since the epoch). */
  startedAt: number;
  /** Time spent running up to this checkpoint, every part of the run together (ms). */
  elapsedMs: number;
  /** When the checkpoint was written (ms since the epoch). */
  at: number;
  /** The back end's time per phase up to this checkpoint, every part together (ms). */
  timings: Record<string, number>;
  /** How many times the run was resumed before this checkpoint. */
  resumes: number;
}

export interface RunRecord {
  fingerprints: Fingerprints;
  counts: Counts;
  clock?: RunClock;
  checkpoints?: { key: string; counts: Counts; clock?: RunClock }[];
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
  /** The run's time up to the state resumed from (absent in snapshots written before clocks were kept). */
  clock?: RunClock;
  record: RunRecord;
}

const recordKey = (s: RunSnapshots) => s.recordKey ?? 'meta';

/** Hash of a run state as written (JSON text). */
export const stateKey = (state: unknown): string => fnv1a64(new TextEncoder().encode(JSON.stringify(state)));

/** The record to write before checkpointing `state` with `counts` (and the run's `clock`). */
export function nextRecord(prev: RunRecord, state: unknown, counts: Counts, clock?: RunClock): RunRecord {
  const last = prev.checkpoints?.[prev.checkpoints.length - 1];
  const entry = { key: stateKey(state), counts, ...(clock ? { clock } : {}) };
  return { fingerprints: prev.fingerprints, counts, ...(clock ? { clock } : {}), checkpoints: [...(last ? [last] : []), entry] };
}

/** A fresh run: earlier snapshots of the run are removed and a record with zero counts written. */
export async function startRecord(snap: RunSnapshots, fingerprints: Fingerprints, clear = true): Promise<RunRecord> {
  if (clear) await snap.store.delete(snap.runId);
  const record: RunRecord = { fingerprints, counts: { inferences: 0, sessions: 0 }, checkpoints: [] };
  await snap.store.put(snap.runId, recordKey(snap), record);
  return record;
}

/** Writes the record for `state` and then `state` itself. */
export async function checkpoint(snap: RunSnapshots, record: RunRecord, state: AaqRunState, counts: Counts, clock?: RunClock): Promise<RunRecord> {
  const next = nextRecord(record, state, counts, clock);
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
  const cps = Array.isArray(rawCps) ? (rawCps as { key?: unknown; counts?: Counts; clock?: unknown }[]) : [];
  const found = cps.find((c) => c.key === key);
  const match = found?.counts;
  const use = match ?? { inferences: counts.inferences, sessions: counts.sessions };
  const clock = readClock(found ? found.clock : (record as { clock?: unknown }).clock);
  return {
    state,
    counts: { inferences: use.inferences, sessions: use.sessions },
    ...(clock ? { clock } : {}),
    record: { fingerprints, counts: use, checkpoints: match ? [{ key, counts: match, ...(clock ? { clock } : {}) }] : [] },
  };
}

/** A stored clock when it is whole; a damaged one is dropped (the times then cover the resumed part only). */
function readClock(v: unknown): RunClock | undefined {
  if (!isObj(v) || !isObj(v.timings)) return undefined;
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (!num(v.startedAt) || !num(v.elapsedMs) || !num(v.at) || !num(v.resumes)) return undefined;
  const timings: Record<string, number> = {};
  for (const [k, t] of Object.entries(v.timings)) if (num(t)) timings[k] = t as number;
  return { startedAt: v.startedAt as number, elapsedMs: v.elapsedMs as number, at: v.at as number, timings, resumes: v.resumes as number };
}
