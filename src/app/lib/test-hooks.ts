// Test-only hooks, present only when the page is opened with `?test` in its URL (the browser
// tests use them to inject faults). Without the flag nothing here is reachable.

import type { SelfCheckRequest, SelfCheckResult } from '../../../workers/protocol';
import { spawnRunWorker } from './worker-client';

export interface TestHooks {
  /** Kill the current run worker as a crash would. */
  crashWorker(): boolean;
  /** The next run on WebGPU reports the GPU device lost right after its first snapshot. */
  loseGpuAfterSnapshot: boolean;
  /** The next run exports a deliberately broken model (its first weight scale ×4). */
  breakExportScale: boolean;
  /** How many times the studio restarted a crashed run worker. */
  restarts: number;
  /** FP32 and every quantizer off in a fresh run worker (workers/self-check.ts). */
  selfCheck(req: SelfCheckRequest): Promise<SelfCheckResult>;
}

export const testMode = typeof location !== 'undefined' && new URLSearchParams(location.search).has('test');

async function selfCheck(req: SelfCheckRequest): Promise<SelfCheckResult> {
  const w = spawnRunWorker('aaq-self-check');
  try {
    return await Promise.race([w.api.selfCheck(req), w.died]);
  } finally {
    w.terminate();
  }
}

export const testHooks: TestHooks = { crashWorker: () => false, loseGpuAfterSnapshot: false, breakExportScale: false, restarts: 0, selfCheck };

if (testMode) (globalThis as unknown as { __aaqTest: TestHooks }).__aaqTest = testHooks;
