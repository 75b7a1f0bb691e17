// The run worker (comlink). It owns the whole AccuracyAwareQuantization loop, the inference engine
// (see engine.ts for why the engine lives here) and the IndexedDB snapshots; the page only renders
// the events it sends and sends commands. Cancel = the page terminates this worker: every completed
// step is already in IndexedDB, so nothing is lost but the step in progress.

import * as Comlink from 'comlink';
import { PauseGate } from './engine';
import { inspectModel, previewData } from './inspect';
import type { DataInput, ModelSummary, RunWorkerApi, SelfCheckRequest, StartRequest, UiEvent } from './protocol';
import { checkRun } from './run-check';
import { fingerprintFor, runSession } from './run-session';

const gate = new PauseGate();
let busy = false;

/** Errors cross comlink as plain Error (name + message); keep our names so the page can tell them apart. */
function rethrow(e: unknown): never {
  if (e instanceof Error) {
    const err = new Error(e.message);
    err.name = e.name;
    throw err;
  }
  throw new Error(String(e));
}

const api: RunWorkerApi = {
  async inspectModel(name: string, bytes: Uint8Array) {
    try {
      return inspectModel(name, bytes);
    } catch (e) {
      rethrow(e);
    }
  },
  async previewData(data: DataInput, configText: string, summary: ModelSummary) {
    try {
      return await previewData(data, configText, summary);
    } catch (e) {
      rethrow(e);
    }
  },
  async checkRun(configText: string, modelName: string, modelBytes: Uint8Array, data: DataInput) {
    try {
      return await checkRun(configText, modelName, modelBytes, data);
    } catch (e) {
      rethrow(e);
    }
  },
  async dataFingerprint(data: DataInput, runId: string) {
    try {
      return await fingerprintFor(data, runId);
    } catch (e) {
      rethrow(e);
    }
  },
  async start(req: StartRequest, onEvent: (e: UiEvent) => void) {
    if (busy) throw new Error('this worker is already running a run');
    busy = true;
    try {
      const out = await runSession(req, (e) => void onEvent(e), gate);
      return Comlink.transfer(out, [out.qdq.buffer as ArrayBuffer]);
    } catch (e) {
      rethrow(e);
    } finally {
      busy = false;
    }
  },
  pause() {
    gate.pause();
  },
  resume() {
    gate.resume();
  },
  // Test-only (the `?test` page hook); its module loads on first use.
  async selfCheck(req: SelfCheckRequest) {
    try {
      const r = await (await import('./self-check')).selfCheck(req);
      return Comlink.transfer(r, [r.inputs.buffer, r.fp32.buffer, r.allOff.buffer] as ArrayBuffer[]);
    } catch (e) {
      rethrow(e);
    }
  },
};

Comlink.expose(api);
