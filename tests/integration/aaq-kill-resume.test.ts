// Kill test: the CLI is SIGKILLed at three different points of an AAQ run and resumed each time;
// the final report figures equal those of an uninterrupted run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AaqRunState } from '../../src/core/algorithms/history';
import type { RunRecord } from '../../src/core/run/run-record';
import { readReport, tempDir, writeConfig } from './cli-helpers';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli/main.ts');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

/** The CLI in a process group of its own: tsx runs the CLI in a child process, which a SIGKILL of
 *  tsx alone would leave running (and writing to the snapshot folder). */
function start(args: string[]): ChildProcess {
  return spawn(TSX, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((res) => p.on('exit', (code) => res(code)));
}

function readState(dir: string): AaqRunState | undefined {
  const f = join(dir, 'run', 'state.json');
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as AaqRunState;
  } catch {
    return undefined;
  }
}

/** Runs until `when(state)` holds, then SIGKILLs; returns the phase it was killed after. */
async function killWhen(p: ChildProcess, dir: string, when: (s: AaqRunState) => boolean): Promise<string> {
  const done = exited(p);
  for (;;) {
    const s = readState(dir);
    if (s && when(s)) {
      process.kill(-p.pid!, 'SIGKILL');
      await done;
      return `${s.phase} (iterations ${s.history.length}, rankings ${s.rankings.length})`;
    }
    const finished = await Promise.race([done.then(() => true), new Promise((r) => setTimeout(() => r(false), 25))]);
    if (finished) throw new Error('the run finished before the kill point');
  }
}

function figures(path: string) {
  const r = readReport(path);
  return {
    baseline: r.baseline,
    quantized: r.quantized,
    final: r.final,
    drop: r.drop,
    reverted: r.reverted,
    layers: r.layers,
    groups_total: r.groups_total,
    status: r.aaq!.status,
    history: r.aaq!.history,
    rankings: r.aaq!.rankings,
    messages: r.aaq!.messages,
  };
}

describe('kill and resume', () => {
  it("SIGKILL at three points, resumed each time, ends with the uninterrupted run's figures", async () => {
    const dir = tempDir();
    const cfg = writeConfig(dir, { model: 'fmnist-resnet.onnx', algorithm: 'AccuracyAwareQuantization', params: { maximal_drop: 0 } });
    const base = ['quantize', '-q', '-c', cfg];
    // uninterrupted
    const full = start([...base, '-o', join(dir, 'full.onnx'), '-r', join(dir, 'full.json'), '--snapshots', join(dir, 'full-snap')]);
    expect(await exited(full)).toBe(0);
    const expected = figures(join(dir, 'full.json'));
    expect(expected.history.length).toBeGreaterThanOrEqual(2);

    const snap = join(dir, 'snap');
    const outArgs = ['-o', join(dir, 'resumed.onnx'), '-r', join(dir, 'resumed.json')];
    const points: string[] = [];
    points.push(await killWhen(start([...base, ...outArgs, '--snapshots', snap]), snap, (s) => s.phase !== 'baseline'));
    points.push(await killWhen(start([...base, ...outArgs, '--resume', snap]), snap, (s) => s.rankings.length >= 1));
    points.push(await killWhen(start([...base, ...outArgs, '--resume', snap]), snap, (s) => s.history.length >= 1));
    const before = JSON.parse(readFileSync(join(snap, 'run', 'meta.json'), 'utf8')) as RunRecord;
    const beforeState = readState(snap)!;
    const last = start([...base, ...outArgs, '--resume', snap]);
    let err = '';
    last.stderr!.on('data', (d) => (err += String(d)));
    expect(await exited(last), err).toBe(0);
    console.log(`killed after: ${points.join('; ')}`);
    expect(new Set(points).size).toBe(3);
    expect(figures(join(dir, 'resumed.json'))).toEqual(expected);
    // The report says it was resumed, and its times cover every part of the run.
    expect(readReport(join(dir, 'full.json')).resumed).toBe(false);
    const resumed = readReport(join(dir, 'resumed.json'));
    const i = resumed.interruption!;
    expect(resumed.resumed).toBe(true);
    expect(i.resumes).toBe(3);
    expect([i.phase, i.iterations]).toEqual([beforeState.phase, beforeState.history.length]);
    expect(i.before_ms).toBe(before.clock!.elapsedMs);
    expect(i.before_ms! + i.resumed_ms).toBeCloseTo(resumed.timings.total, 6);
    expect(Date.parse(i.started_at)).toBeLessThan(Date.parse(i.last_checkpoint_at!));
    expect(Date.parse(i.last_checkpoint_at!)).toBeLessThan(Date.parse(i.resumed_at));
    // Every phase's time of the earlier parts is in the report's.
    for (const [k, ms] of Object.entries(before.clock!.timings)) expect(resumed.timings[k], k).toBeGreaterThanOrEqual(ms);
    expect(readFileSync(join(dir, 'resumed.onnx'))).toEqual(readFileSync(join(dir, 'full.onnx')));
  });
});
