// Starting, pausing, cancelling and resuming runs, and the list of past runs in IndexedDB.

import type { RunReport } from '../../../src/core/report';
import { IdbSnapshotStore } from '../../../workers/idb-store';
import type { DataInput, RunMeta, StartRequest } from '../../../workers/protocol';
import { app } from './app-state.svelte';
import { classifyData } from './files';
import { errorText } from './format';
import { LiveRun } from './live-run.svelte';
import { testHooks, testMode } from './test-hooks';
import { Comlink, spawnRunWorker, WorkerCrashedError, type RunWorker } from './worker-client';

/** A crashed run worker is restarted this many times per run before the run is marked failed. */
const MAX_RESTARTS = 3;

const store = new IdbSnapshotStore();

function newRunId(): string {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `run-${t}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Runs whose lock is held right now (by this tab or another one). */
async function heldRuns(): Promise<Set<string>> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks?.query) return new Set();
  const q = await locks.query();
  return new Set(
    (q.held ?? [])
      .map((l) => l.name ?? '')
      .filter((n) => n.startsWith('aaq-run:'))
      .map((n) => n.slice(8)),
  );
}

class Runs {
  live = $state<LiveRun | null>(null);
  /** Run waiting for its data to be picked again (resume). */
  dataFor = $state.raw<RunMeta | null>(null);
  listError = $state<string | null>(null);
  private worker?: RunWorker;
  private recheck?: ReturnType<typeof setTimeout>;

  async refresh(tries = 0): Promise<void> {
    try {
      const ids = await store.list();
      const held = await heldRuns();
      const metas: RunMeta[] = [];
      let elsewhere = false;
      for (const id of ids) {
        const m = await store.get<RunMeta>(id, 'meta');
        if (!m) continue;
        if (m.status === 'running' && this.live?.runId !== id) {
          // Not ours: running in another tab (its lock is held), or interrupted.
          if (held.has(id)) elsewhere = true;
          else m.status = 'interrupted';
        }
        metas.push(m);
      }
      app.runs = metas.sort((a, b) => b.createdAt - a.createdAt);
      this.listError = null;
      // A worker of a page just reloaded may still hold its lock for a moment: look again.
      clearTimeout(this.recheck);
      if (elsewhere && tries < 5) this.recheck = setTimeout(() => void this.refresh(tries + 1), 1000);
    } catch (e) {
      this.listError = `Past runs cannot be read from browser storage: ${errorText(e)}`;
    }
  }

  get unfinished(): RunMeta[] {
    return app.runs.filter((m) => m.status === 'interrupted' || m.status === 'cancelled' || m.status === 'failed');
  }

  get active(): boolean {
    return !!this.live && (this.live.status === 'running' || this.live.status === 'starting' || this.live.status === 'paused');
  }

  private async launch(live: LiveRun, req: StartRequest): Promise<void> {
    this.stopWorker();
    this.live = live;
    app.screen = 'run';
    // Let the Run screen render in its own task before the worker starts (keeps main-thread tasks short).
    await new Promise((r) => setTimeout(r, 30));
    for (let restarts = 0; ; restarts++) {
      const w = spawnRunWorker();
      this.worker = w;
      testHooks.crashWorker = () => (this.worker === w ? (w.crash('killed by the test hook'), true) : false);
      try {
        const out = await Promise.race([
          w.api.start(
            req,
            Comlink.proxy((e) => live.handle(e)),
          ),
          w.died,
        ]);
        live.report = out.report;
        live.qdq = out.qdq;
        live.meta = out.meta;
        live.finishedAt = Date.now();
        // Results render (hidden) in this task, the screen switch in the next: two short tasks.
        await new Promise((r) => setTimeout(r, 30));
        live.status = 'done';
        if (this.live === live) app.screen = 'results';
        return;
      } catch (e) {
        if (live.status === 'cancelled' || this.live !== live) return;
        const err = e as Error;
        if (err instanceof WorkerCrashedError && restarts < MAX_RESTARTS) {
          // Every completed step is in IndexedDB: a fresh worker carries on from the last one.
          if (this.worker === w) this.stopWorker();
          const stored = await store.get<RunMeta>(live.runId, 'meta').catch(() => undefined);
          live.handle({
            type: 'warning',
            message: `The run worker stopped unexpectedly (${err.message.replace(/^the run worker stopped unexpectedly \((.*)\)$/, '$1')}); it was restarted and the run continues from the last completed step.`,
          });
          live.handle({ type: 'log', message: `Run worker restarted (${restarts + 1}/${MAX_RESTARTS})` });
          testHooks.restarts++;
          if (stored) req = { runId: live.runId, resume: true };
          continue;
        }
        if (err.name === 'DataNeededError') {
          live.status = 'needs-data';
          this.dataFor = live.meta ?? app.runs.find((m) => m.runId === live.runId) ?? null;
        } else live.status = 'failed';
        live.error = errorText(e);
        return;
      } finally {
        if (this.worker === w) this.stopWorker();
        void this.refresh();
      }
    }
  }

  async start(): Promise<void> {
    if (!app.model || !app.data || !app.config) return;
    const runId = newRunId();
    const title = `${app.config.model.model_name || app.model.name} · ${app.data.input.name}`;
    const live = new LiveRun(runId, title);
    await this.launch(live, {
      runId,
      resume: false,
      title,
      configText: app.configText(),
      model: { name: app.model.name, bytes: app.model.bytes },
      data: app.data.input,
      settings: $state.snapshot(app.settings),
      ...(testMode && (testHooks.loseGpuAfterSnapshot || testHooks.breakExportScale)
        ? { test: { loseGpuAfterSnapshot: testHooks.loseGpuAfterSnapshot, breakExportScale: testHooks.breakExportScale } }
        : {}),
    });
  }

  async resume(meta: RunMeta, data?: DataInput): Promise<void> {
    this.dataFor = null;
    const live = new LiveRun(meta.runId, meta.title);
    live.meta = meta;
    await this.launch(live, { runId: meta.runId, resume: true, data });
  }

  /** Data picked again for a resume: same fingerprint, or an error message. */
  async resumeWithData(meta: RunMeta, data: DataInput): Promise<string | null> {
    const w = spawnRunWorker('aaq-check');
    try {
      const fp = await w.api.dataFingerprint(data, meta.runId);
      if (!fp.same)
        return `These files are not the run's data (fingerprint ${fp.fingerprint.slice(0, 12)}…, expected ${fp.expected.slice(0, 12)}…). Pick the same files as when the run started.`;
    } catch (e) {
      return errorText(e);
    } finally {
      w.terminate();
    }
    await this.resume(meta, data);
    return null;
  }

  pause(): void {
    if (!this.worker || !this.live) return;
    void this.worker.api.pause();
    this.live.status = 'paused';
  }

  unpause(): void {
    if (!this.worker || !this.live) return;
    void this.worker.api.resume();
    this.live.status = 'running';
  }

  /** Cancel = terminate the worker; every completed step is in IndexedDB, so it can be resumed. */
  async cancel(): Promise<void> {
    const live = this.live;
    this.stopWorker();
    if (!live) return;
    live.status = 'cancelled';
    const meta = await store.get<RunMeta>(live.runId, 'meta');
    if (meta) await store.put(live.runId, 'meta', { ...meta, status: 'cancelled', updatedAt: Date.now() });
    await this.refresh();
  }

  private stopWorker(): void {
    this.worker?.terminate();
    this.worker = undefined;
  }

  /** A finished run's results, from IndexedDB. */
  async open(meta: RunMeta): Promise<void> {
    const report = await store.get<RunReport>(meta.runId, 'report');
    const qdq = await store.getBytes(meta.runId, 'qdq');
    if (!report || !qdq) throw new Error('the results of this run are no longer in browser storage');
    const live = new LiveRun(meta.runId, meta.title);
    live.meta = meta;
    live.report = report;
    live.qdq = qdq;
    live.status = 'done';
    live.digest = (await store.get(meta.runId, 'digest')) ?? null;
    // A finished run: its stages done, its time the report's.
    live.finishedAt = Date.now();
    live.startedAt = live.finishedAt - report.timings.total;
    const searched = !!live.digest?.rankings.length;
    live.restoreStages(['baseline', 'statistics', 'quantized-eval', ...(searched ? ['ranking', 'iteration'] : []), 'export']);
    this.live = live;
    app.screen = 'results';
  }

  /** The run's own model, data (when the browser kept it) and config loaded again, for "Change
   *  settings and run again" after a reload (the page no longer holds them): the Configure screen
   *  when all are there, the Load screen (to pick the data) otherwise. */
  async reuseInputs(meta: RunMeta): Promise<void> {
    const modelBytes = await store.getBytes(meta.runId, 'model');
    const data = await store.get<DataInput>(meta.runId, 'data');
    app.demo = false;
    app.config = null;
    app.data = null;
    app.preview = null;
    if (modelBytes) await app.loadModel(meta.modelName, modelBytes);
    if (data) await app.loadData(classifyData(data.files, data.name));
    if (app.model && app.data) {
      app.importConfig(meta.configText, 'config.json');
      app.settings = { ...app.settings, ...meta.settings };
    }
    app.screen = app.model && app.data && app.config ? 'configure' : 'load';
  }

  async remove(runId: string): Promise<void> {
    if (this.live?.runId === runId) {
      if (this.active) await this.cancel();
      this.live = null;
    }
    await store.delete(runId);
    await this.refresh();
  }
}

export const runs = new Runs();
