// Spawning run workers. One long-lived "tools" worker answers the Load screen (model summary, data
// preview, fingerprints); every run gets a fresh worker, so cancelling = terminating it.
import * as Comlink from 'comlink';
import type { RunWorkerApi } from '../../../workers/protocol';

/** The run worker went away without answering (crashed, or killed by the test hook). */
export class WorkerCrashedError extends Error {
  constructor(why: string) {
    super(`the run worker stopped unexpectedly (${why})`);
    this.name = 'WorkerCrashedError';
  }
}

export interface RunWorker {
  api: Comlink.Remote<RunWorkerApi>;
  terminate(): void;
  /** Rejects with WorkerCrashedError when the worker dies on its own (or `crash()` is called). */
  died: Promise<never>;
  /** Kills the worker as a crash would (test hook). */
  crash(why: string): void;
}

export function spawnRunWorker(name = 'aaq-run'): RunWorker {
  const worker = new Worker(new URL('../../../workers/run.worker.ts', import.meta.url), { type: 'module', name });
  const api = Comlink.wrap<RunWorkerApi>(worker);
  let fail: (e: Error) => void = () => undefined;
  const died = new Promise<never>((_, reject) => (fail = reject));
  died.catch(() => undefined);
  worker.addEventListener('error', (e) => fail(new WorkerCrashedError(e.message || 'an uncaught error in the worker')));
  worker.addEventListener('messageerror', () => fail(new WorkerCrashedError('a message could not be read')));
  let gone = false;
  const terminate = () => {
    if (gone) return;
    gone = true;
    api[Comlink.releaseProxy]();
    worker.terminate();
  };
  return {
    api,
    terminate,
    died,
    crash(why: string) {
      terminate();
      fail(new WorkerCrashedError(why));
    },
  };
}

let tools: RunWorker | undefined;

export function toolsWorker(): Comlink.Remote<RunWorkerApi> {
  tools ??= spawnRunWorker('aaq-tools');
  return tools.api;
}

export { Comlink };
