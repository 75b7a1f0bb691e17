// The CLI's progress printer (src/cli/progress.ts): piped, one plain line per update and never the
// same update twice; on a terminal, the running count redrawn in place; drops in pp; iterations
// say what was reverted and what was rolled back.
import { describe, expect, it } from 'vitest';
import { ProgressPrinter } from '../../src/cli/progress';
import type { HistoryEntry } from '../../src/core/algorithms/history';
import type { RunEvent } from '../../src/core/types';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 60, write: (c: string) => chunks.push(c) } };
}

const A = 'accuracy@top1';
const iteration = (i: number, rolledBack: boolean, drop: number): RunEvent => {
  const rec: HistoryEntry = {
    iteration: i,
    group: `a:g${i}`,
    ops: [`Conv_${i}`],
    metric: A,
    metrics: { [A]: 0.9 },
    drop: { [A]: drop },
    accepted: !rolledBack,
    rolledBack,
    reranked: rolledBack,
  };
  return { stage: 'iteration', done: i, total: 5, message: `iteration ${i}`, data: rec };
};

describe('CLI progress', () => {
  it('piped: each update once, a stage count at most once a second, milestones always', () => {
    let t = 0;
    const { chunks, stream } = sink(false);
    const p = new ProgressPrinter(stream, { now: () => t });
    const events: RunEvent[] = [
      { stage: 'baseline', done: 16, total: 64 },
      { stage: 'baseline', done: 16, total: 64 }, // the same update again
      { stage: 'baseline', done: 32, total: 64 }, // within the second: throttled
      { stage: 'baseline', done: 64, total: 64 }, // the stage's end
      { stage: 'baseline', done: 1, total: 1, message: 'baseline', data: { baseline: { [A]: 0.925 } } },
      { stage: 'quantized-eval', done: 1, total: 1, message: 'quantized', data: { metrics: { [A]: 0.91 }, drop: { [A]: 0.015 } } },
      iteration(1, false, 0.012),
      iteration(2, true, 0.02),
      { stage: 'done', done: 1, total: 1, message: 'met' },
    ];
    for (const e of events) {
      p.event(e);
      t += 100;
    }
    p.log('Reverted 1 layers to the floating-point precision: Conv_1');
    const lines = chunks.join('').split('\n').filter(Boolean);
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines).toEqual([
      '[FP32 baseline] 16/64',
      '[FP32 baseline] 64/64',
      '[FP32 baseline] accuracy@top1 92.50 %',
      '[Default INT8] accuracy@top1 91.00 % (drop 1.50 pp)',
      '[Iterations] 1/5 iteration 1: Conv_1 (1 layer) reverted to FP32; accuracy@top1 drop 1.20 pp',
      '[Iterations] 2/5 iteration 2: reverting Conv_2 (1 layer) rolled back: the drop grew; accuracy@top1 drop 2.00 pp',
      'Reverted 1 layers to the floating-point precision: Conv_1',
    ]);
    expect(lines.join('\n')).not.toMatch(/drop [\d.]+ %/);
  });

  it('piped: a stage count goes on after a second', () => {
    let t = 0;
    const { chunks, stream } = sink(false);
    const p = new ProgressPrinter(stream, { now: () => t });
    p.event({ stage: 'ranking', done: 1, total: 10 });
    t = 500;
    p.event({ stage: 'ranking', done: 2, total: 10 });
    t = 1200;
    p.event({ stage: 'ranking', done: 3, total: 10 });
    expect(chunks.join('')).toBe('[Ranking] 1/10\n[Ranking] 3/10\n');
  });

  it('the same message with a new count is a running count (throttled piped, redrawn on a terminal)', () => {
    let t = 0;
    const piped = sink(false);
    const tty = sink(true);
    const printers = [new ProgressPrinter(piped.stream, { now: () => t }), new ProgressPrinter(tty.stream, { now: () => t })];
    const events: RunEvent[] = [
      { stage: 'export', done: 0, total: 24, message: 'measuring the exported model' },
      { stage: 'export', done: 8, total: 24, message: 'measuring the exported model' },
      { stage: 'export', done: 16, total: 24, message: 'measuring the exported model' },
      { stage: 'export', done: 24, total: 24, message: 'measuring the exported model' },
    ];
    for (const e of events) {
      for (const p of printers) p.event(e);
      t += 200;
    }
    expect(piped.chunks.join('')).toBe('[Export] 0/24 measuring the exported model\n[Export] 24/24 measuring the exported model\n');
    expect(tty.chunks.filter((c) => c.endsWith('\n'))).toEqual(['[Export] 0/24 measuring the exported model\n', '[Export] 24/24 measuring the exported model\n']);
    expect(tty.chunks).toContain('\r\x1b[2K[Export] 16/24 measuring the exported model');
  });

  it('on a terminal the count is redrawn in place, log lines and milestones stay above it', () => {
    let t = 0;
    const { chunks, stream } = sink(true);
    const p = new ProgressPrinter(stream, { now: () => t });
    p.event({ stage: 'baseline', done: 16, total: 64 });
    t += 200;
    p.event({ stage: 'baseline', done: 32, total: 64 });
    p.log('a log line');
    t += 200;
    p.event({ stage: 'baseline', done: 64, total: 64 });
    p.end();
    expect(chunks).toEqual([
      '\r\x1b[2K[FP32 baseline] 16/64',
      '\r\x1b[2K[FP32 baseline] 32/64',
      '\r\x1b[2K',
      'a log line\n',
      '\r\x1b[2K[FP32 baseline] 32/64',
      '\r\x1b[2K',
      '[FP32 baseline] 64/64\n',
    ]);
  });

  it('quiet prints nothing', () => {
    const { chunks, stream } = sink(false);
    const p = new ProgressPrinter(stream, { quiet: true });
    p.event({ stage: 'baseline', done: 1, total: 2 });
    p.log('x');
    expect(chunks).toEqual([]);
  });
});
