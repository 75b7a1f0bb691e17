// A run as the page sees it: the state the Watch screen renders, fed by the run worker's events.

import type { RunReport } from '../../../src/core/report';
import { stagesDoneBefore } from '../../../src/core/run/phases';
import type { EngineInfo, RunDigest, RunMeta, UiEvent } from '../../../workers/protocol';

export type LiveStatus = 'starting' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled' | 'needs-data';

export interface StageState {
  stage: string;
  done: number;
  total: number;
  message?: string;
  /** Rounds of this stage so far (ranking runs again after each rejected revert). */
  rounds: number;
  /** When the current round started, and when the last event came (ms since epoch). */
  startedAt: number;
  updatedAt: number;
  finished: boolean;
  /** Finished before the run was interrupted (a resumed run has no events of it). */
  before?: boolean;
}

/** The stages, in the order a run goes through them. */
export const STAGES: { id: string; label: string; help: string }[] = [
  { id: 'baseline', label: 'FP32 baseline', help: 'the original model on every sample' },
  { id: 'statistics', label: 'Statistics', help: 'activation ranges on the statistics subset' },
  { id: 'quantized-eval', label: 'Default INT8', help: 'the fully quantized model on every sample' },
  { id: 'mixed-preset', label: 'Mixed preset', help: 'asymmetric activations (convert_to_mixed_preset)' },
  { id: 'tuning', label: 'Tuning', help: 'other range estimators (tune_hyperparams)' },
  { id: 'ranking', label: 'Ranking', help: 'each group reverted on the ranking subset' },
  { id: 'iteration', label: 'Iterations', help: 'revert the worst group, evaluate every sample' },
  { id: 'export', label: 'Export', help: 'the QDQ model' },
];

export class LiveRun {
  readonly runId: string;
  title = $state('');
  status = $state<LiveStatus>('starting');
  stages = $state<Record<string, StageState>>({});
  current = $state('');
  digest = $state.raw<RunDigest | null>(null);
  engine = $state.raw<EngineInfo | null>(null);
  meta = $state.raw<RunMeta | null>(null);
  logs = $state<string[]>([]);
  warnings = $state<string[]>([]);
  error = $state<string | null>(null);
  report = $state.raw<RunReport | null>(null);
  qdq = $state.raw<Uint8Array | null>(null);
  startedAt = $state(Date.now());
  finishedAt = $state<number | null>(null);
  /** The phase a resumed run went on at (absent for a run that was not interrupted). */
  resumedAt = $state<string | null>(null);

  constructor(runId: string, title: string) {
    this.runId = runId;
    this.title = title;
  }

  handle(e: UiEvent): void {
    switch (e.type) {
      case 'progress': {
        const ev = e.event;
        if (ev.stage === 'done' || ev.stage === 'load' || ev.stage === 'quantize') break;
        const prev = this.stages[ev.stage];
        // A stage's closing event (1/1) must not replace its sample counts.
        if (prev && ev.total === 1 && ev.done === 1 && prev.total > 1) {
          this.stages[ev.stage] = { ...prev, done: prev.total, finished: true, updatedAt: e.at };
          break;
        }
        const newRound = !prev || ev.done < prev.done || (prev.finished && ev.done < ev.total);
        // Iteration events come both per sample (evaluation) and per iteration (with data).
        if (ev.stage === 'iteration' && ev.data !== undefined) break;
        const s: StageState = {
          stage: ev.stage,
          done: ev.done,
          total: ev.total,
          message: ev.message ?? (newRound ? undefined : prev?.message),
          rounds: (prev?.rounds ?? 0) + (newRound ? 1 : 0),
          startedAt: newRound ? e.at : prev!.startedAt,
          updatedAt: e.at,
          finished: ev.total > 0 && ev.done >= ev.total,
        };
        this.stages[ev.stage] = s;
        if (this.current && this.current !== ev.stage && this.stages[this.current]) this.stages[this.current].finished = true;
        this.current = ev.stage;
        if (this.status === 'starting') this.status = 'running';
        break;
      }
      case 'log':
        this.logs.push(e.message);
        if (this.logs.length > 400) this.logs.splice(0, this.logs.length - 400);
        break;
      case 'warning':
        if (!this.warnings.includes(e.message)) this.warnings.push(e.message);
        break;
      case 'engine':
        this.engine = e.info;
        break;
      case 'meta':
        this.meta = e.meta;
        this.title = e.meta.title;
        break;
      case 'digest':
        this.digest = e.digest;
        break;
      case 'paused':
        this.status = e.paused ? 'paused' : 'running';
        break;
      case 'resumed': {
        // The earlier part's time counts, unless this page saw it (a restarted worker goes on
        // with the same live run).
        if (this.resumedAt === null && Object.keys(this.stages).length === 0) this.startedAt -= e.elapsedMs;
        this.resumedAt = e.phase;
        this.restoreStages(stagesDoneBefore(e.phase));
        break;
      }
    }
  }

  /** Stages finished in an earlier part of the run (no events of them came to this page) shown as done. */
  restoreStages(ids: string[]): void {
    for (const id of ids) {
      const prev = this.stages[id];
      if (prev && !prev.before) continue;
      const n = id === 'baseline' || id === 'quantized-eval' ? (this.meta?.dataSize ?? 0) : 0;
      this.stages[id] = { stage: id, done: n, total: n, rounds: 1, startedAt: this.startedAt, updatedAt: this.startedAt, finished: true, before: true };
    }
  }

  /** Seconds left in a stage at its current pace; undefined while unknown. */
  eta(s: StageState, now: number): number | undefined {
    if (s.finished || s.done <= 0 || s.total <= 0) return undefined;
    const elapsed = now - s.startedAt;
    if (elapsed < 500) return undefined;
    return ((s.total - s.done) * elapsed) / s.done;
  }
}
