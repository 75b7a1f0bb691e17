// Test-only hooks, present only when the page is opened with `?test` in its URL (the browser
// tests use them to inject faults). Without the flag nothing here is reachable.

export interface TestHooks {
  /** Kill the current run worker as a crash would. */
  crashWorker(): boolean;
  /** The next run on WebGPU reports the GPU device lost right after its first snapshot. */
  loseGpuAfterSnapshot: boolean;
  /** How many times the studio restarted a crashed run worker. */
  restarts: number;
}

export const testMode = typeof location !== 'undefined' && new URLSearchParams(location.search).has('test');

export const testHooks: TestHooks = { crashWorker: () => false, loseGpuAfterSnapshot: false, restarts: 0 };

if (testMode) (globalThis as unknown as { __aaqTest: TestHooks }).__aaqTest = testHooks;
