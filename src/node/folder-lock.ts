// A lock on a snapshot folder: one `aaq quantize` at a time writes or resumes it. The lock is a
// file (`aaq.lock`, holding the owner's pid) created exclusively; a lock whose process is gone
// (killed, crashed) is taken over, with a message. Released when the run ends and on exit.
import { openSync, readFileSync, rmSync, writeSync, closeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { QuantizeError } from '../core/types';

export const LOCK_FILE = 'aaq.lock';

/** Lock files this process holds (a second run in the same process is refused too). */
const held = new Set<string>();

export interface FolderLock {
  readonly path: string;
  release(): void;
}

/** Whether a process with this pid runs (EPERM: it does, under another user). A zombie (killed,
 *  not yet reaped: common in containers whose init reaps nothing) does not. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (macOS, Windows): kill(0) is all there is
  }
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim().split(/\s+/)[0], 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Locks `dir` (an existing folder) for this process; `note` is told when a stale lock is taken over. */
export function lockFolder(dir: string, note: (message: string) => void = () => undefined): FolderLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
    }
    const owner = readOwner(path);
    const ours = owner === process.pid;
    if (owner !== undefined && ((ours && held.has(path)) || (!ours && processAlive(owner)))) {
      throw new QuantizeError(`is in use by another aaq process (pid ${owner}, lock file ${path})`, {
        file: dir,
        expected: 'a snapshot folder no other run is using: wait for that run to end, or give another --snapshots folder',
      });
    }
    // Stale: move it aside atomically, so that of two processes taking it over only one succeeds.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
      const moved = readOwner(aside);
      if (moved !== owner && moved !== undefined && processAlive(moved)) {
        // Another process took the stale lock over between our look and the move: give it back.
        renameSync(aside, path);
        continue;
      }
      rmSync(aside, { force: true });
      note(`Taking over the lock of ${dir}: its process (pid ${owner ?? 'unknown'}) is no longer running`);
    } catch {
      // Another process took it over first; try again (it is then alive and refuses us).
    }
  }
  held.add(path);
  const release = () => {
    if (!held.delete(path)) return;
    process.off('exit', release);
    if (readOwner(path) === process.pid) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return { path, release };
}
