// The snapshot folder of a CLI AAQ run: a fresh one, or with --resume an existing one, checked
// before anything is written (src/core/run/run-record.ts does the checks shared with the studio;
// here only that the folder exists). A refused folder is left exactly as it was.
import { existsSync, statSync } from 'node:fs';
import type { RunSnapshots } from '../core/run/run-record';
import { QuantizeError } from '../core/types';
import { FileSnapshotStore } from './file-store';

const EXPECTED = 'a snapshot folder written by aaq quantize (--snapshots)';

/** The CLI's snapshots in `dir` (one run, id 'run': `dir/run/meta.json`, `dir/run/state.json`). */
export function folderSnapshots(dir: string, mustExist: boolean): RunSnapshots {
  if (mustExist) {
    if (!existsSync(dir)) throw new QuantizeError('no such folder', { file: dir, expected: EXPECTED });
    if (!statSync(dir).isDirectory()) throw new QuantizeError('is not a folder', { file: dir, expected: EXPECTED });
  }
  const store = new FileSnapshotStore(dir);
  return { store, runId: 'run', recordKey: 'meta', names: { run: dir, key: (k) => store.path('run', k), expected: EXPECTED } };
}
