// The CLI's progress on stderr: one line per update. On a terminal the current stage's line is
// redrawn in place (milestones and log lines stay above it); piped, each update is one plain line,
// a stage's running count at most once a second. Stages are named as in the studio, drops are in
// percentage points (pp), and an iteration says whether its group was reverted or rolled back.
import type { HistoryEntry } from '../core/algorithms/history';
import type { RunEvent, Stage } from '../core/types';

const LABELS: Partial<Record<Stage, string>> = {
  load: 'Load',
  baseline: 'FP32 baseline',
  statistics: 'Statistics',
  quantize: 'Quantize',
  'quantized-eval': 'Default INT8',
  'mixed-preset': 'Mixed preset',
  tuning: 'Tuning',
  ranking: 'Ranking',
  iteration: 'Iterations',
  export: 'Export',
  done: 'Done',
};

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const pp = (x: number) => `${(x * 100).toFixed(2)} pp`;
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** What an event says beyond its count: metrics, drops in pp, reverted / rolled back. */
export function eventDetail(e: RunEvent): string | undefined {
  const d = e.data as Record<string, unknown> | undefined;
  if (e.stage === 'iteration' && d && typeof d === 'object' && 'group' in d && 'drop' in d) {
    const h = d as unknown as HistoryEntry;
    const layers = `${h.ops.length} layer${h.ops.length === 1 ? '' : 's'}`;
    const drop = `${h.metric} drop ${pp(h.drop[h.metric])}${h.partial ? ` or more (${h.partial.evaluated} of ${h.partial.of} samples evaluated)` : ''}`;
    const ops = h.ops.length > 3 ? `${h.ops.slice(0, 3).join(', ')} and ${h.ops.length - 3} more` : h.ops.join(', ');
    const what = h.rolledBack ? `reverting ${ops} (${layers}) rolled back: the drop grew` : `${ops} (${layers}) reverted to FP32`;
    return `iteration ${h.iteration}: ${what}; ${drop}`;
  }
  if ((e.stage === 'quantized-eval' || e.stage === 'mixed-preset') && d && typeof d === 'object' && 'metrics' in d && 'drop' in d) {
    const q = d as { metrics: Record<string, number>; drop: Record<string, number> };
    return Object.keys(q.metrics)
      .map((m) => `${m} ${pct(q.metrics[m])} (drop ${pp(q.drop[m])})`)
      .join(', ');
  }
  if (e.stage === 'baseline' && d && typeof d === 'object' && 'baseline' in d) {
    const b = (d as { baseline: Record<string, number> }).baseline;
    return Object.keys(b)
      .map((m) => `${m} ${pct(b[m])}`)
      .join(', ');
  }
  return e.message;
}

export class ProgressPrinter {
  private live = ''; // the redrawn line on a terminal ('' when none is shown)
  private lastLine = '';
  private lastStage = '';
  private lastDetail: string | undefined;
  private lastAt = 0;

  constructor(
    private readonly out: ProgressStream,
    private readonly opts: { quiet?: boolean; tty?: boolean; now?: () => number; intervalMs?: number } = {},
  ) {}

  private get tty(): boolean {
    return this.opts.tty ?? !!this.out.isTTY;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** A progress event: a milestone (it says something) stays; a running count is throttled. */
  event(e: RunEvent): void {
    // 'done' carries AAQ's bare status; the summary says it, with the sanity checks' verdict.
    if (this.opts.quiet || e.stage === 'done') return;
    const label = LABELS[e.stage] ?? e.stage;
    const detail = eventDetail(e);
    const count = e.total > 1 || e.done > 1 ? ` ${e.done}/${e.total}` : '';
    if (!count && !detail) return;
    const line = `[${label}]${count}${detail ? ` ${detail}` : ''}`;
    if (line === this.lastLine) return;
    // A new message is a milestone; the same message with another count is a running count.
    const sameDetail = e.stage === this.lastStage && detail === this.lastDetail;
    const milestone = (detail !== undefined && !sameDetail) || e.done >= e.total;
    const t = this.now();
    if (!milestone && e.stage === this.lastStage && t - this.lastAt < (this.opts.intervalMs ?? (this.tty ? 100 : 1000))) return;
    this.lastStage = e.stage;
    this.lastDetail = detail;
    this.lastAt = t;
    this.lastLine = line;
    if (this.tty && !milestone) this.redraw(line);
    else this.permanent(line);
  }

  /** A log line: above the redrawn line on a terminal. */
  log(message: string): void {
    if (this.opts.quiet) return;
    this.permanent(message);
  }

  /** Ends the redrawn line (before the summary or an error). */
  end(): void {
    if (this.live) this.out.write('\r\x1b[2K');
    this.live = '';
  }

  private permanent(line: string): void {
    if (this.tty) {
      const live = this.live;
      this.end();
      this.out.write(line + '\n');
      // The running count goes on below a log line; a milestone replaces it.
      if (live && this.lastLine !== line) this.redraw(live);
    } else this.out.write(line + '\n');
  }

  private redraw(line: string): void {
    const width = Math.max(20, (this.out.columns || 80) - 1);
    const shown = line.length > width ? line.slice(0, width - 1) + '…' : line;
    this.out.write(`\r\x1b[2K${shown}`);
    this.live = shown;
  }
}
