// Spawning run workers. One long-lived "tools" worker answers the Load screen (model summary, data
// preview, fingerprints); every run gets a fresh worker, so cancelling = terminating it.
import * as Comlink from 'comlink';
import type { RunWorkerApi } from '../../../workers/protocol';

export interface RunWorker {
  api: Comlink.Remote<RunWorkerApi>;
  terminate(): void;
}

export function spawnRunWorker(name = 'aaq-run'): RunWorker {
  const worker = new Worker(new URL('../../../workers/run.worker.ts', import.meta.url), { type: 'module', name });
  const api = Comlink.wrap<RunWorkerApi>(worker);
  return {
    api,
    terminate() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

let tools: RunWorker | undefined;

export function toolsWorker(): Comlink.Remote<RunWorkerApi> {
  tools ??= spawnRunWorker('aaq-tools');
  return tools.api;
}

export { Comlink };
