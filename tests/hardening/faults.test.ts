// Issue 6, part 3 (CLI): SIGKILL during a snapshot write leaves the previous snapshot valid; a
// corrupt or foreign snapshot given to --resume is refused with a clear message and nothing (the
// snapshot folder, an existing output) is overwritten.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import { FileSnapshotStore } from '../../src/node/file-store';
import { MODELS, ROOT, Y40, baseConfig, judge, runCli, tempDir, writeJson } from './cli-harness';
import { checkBinary, snapshotBody } from './snapshot-writer';

const root = tempDir('faults');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGKILL during snapshot writes', () => {
  it('leaves the previous snapshot valid every time', async () => {
    const dir = join(root, 'kill');
    const ROUNDS = 6;
    let lastSeq = 0;
    let midWrite = 0;
    const log: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'tests/hardening/snapshot-writer.ts'), dir], { cwd: ROOT, stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      // wait until this child has written a snapshot of its own, then a varying while more
      const t0 = Date.now();
      while (Date.now() - t0 < 30_000 && !((readSeq(dir) ?? 0) > lastSeq)) await sleep(10);
      if (round % 2 === 0)
        await sleep(30 + ((round * 97) % 250)); // at some moment
      else awaitTempFile(join(dir, 'run'), `.tmp-${child.pid}`); // as soon as a write is under way
      child.kill('SIGKILL');
      await exited;
      const tmp = readdirSync(join(dir, 'run')).filter((f) => f.endsWith(`.tmp-${child.pid}`));
      if (tmp.length) midWrite++;
      // the store still reads, and both snapshots are whole
      const store = new FileSnapshotStore(dir);
      const s = await store.get<{ seq: number; body: string }>('run', 'state');
      const binSeq = checkBinary((await store.getBytes('run', 'model'))!);
      expect(s, `round ${round}: no snapshot`).toBeDefined();
      expect(s!.body === snapshotBody(s!.seq), `round ${round}: JSON snapshot ${s!.seq} is torn`).toBe(true);
      expect(binSeq, `round ${round}: binary snapshot is torn`).toBeGreaterThan(0);
      expect([s!.seq, s!.seq + 1]).toContain(binSeq); // the binary one is written first
      expect(s!.seq).toBeGreaterThan(lastSeq);
      log.push(`round ${round}: killed after snapshot ${s!.seq}${tmp.length ? `, inside a write (${tmp.join(', ')} left behind)` : ''}`);
      lastSeq = s!.seq;
    }
    console.log(`${log.join('\n')}\nSIGKILL: ${ROUNDS} kills, ${midWrite} inside a write, previous snapshot valid ${ROUNDS}/${ROUNDS}`);
    expect(midWrite, 'no kill landed inside a write: the test proved nothing').toBeGreaterThan(0);
  });
});

/** Busy-waits (up to 10 s) until a file ending in `suffix` exists in `dir`: a write in progress. */
function awaitTempFile(dir: string, suffix: string): void {
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    try {
      if (readdirSync(dir).some((f) => f.endsWith(suffix))) return;
    } catch {
      /* not created yet */
    }
  }
}

function readSeq(dir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'run', 'state.json'), 'utf8')) as { seq: number }).seq;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

/** Content hash of every file under `dir` (paths included): "nothing overwritten" is equality. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      h.update(p.slice(dir.length) + '\0');
      if (e.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return h.digest('hex');
}

interface Scenario {
  name: string;
  /** Prepares a snapshot folder (a copy of the good one, damaged) and returns the CLI arguments. */
  make(snap: string, dir: string): { args: string[]; names: string[] };
}

describe('corrupt or foreign snapshots on --resume', () => {
  it('are refused with a clear message and nothing is overwritten', async () => {
    const work = join(root, 'resume');
    mkdirSync(work, { recursive: true });
    const aaq = (over: Record<string, unknown> = {}, name = 'aaq.json', extra: Parameters<typeof baseConfig>[0] = {}) =>
      writeJson(join(work, name), baseConfig({ algorithm: 'AccuracyAwareQuantization', params: { maximal_drop: 0, ...over }, ...extra }));
    const cfg = aaq();
    const good = join(work, 'good-snap');
    const first = await runCli(['quantize', '-q', '-c', cfg, '-o', join(work, 'first.onnx'), '--snapshots', good]);
    expect(first.code, first.stderr).toBe(0);
    const y = parseNpy(new Uint8Array(readFileSync(Y40)));
    const y2 = BigInt64Array.from(y.data as BigInt64Array);
    y2[0] = (y2[0] + 1n) % 10n;
    writeFileSync(join(work, 'y-other.npy'), encodeNpy({ dtype: 'i8', shape: y.shape, data: y2 }));
    const edit = (snap: string, key: 'state' | 'meta', f: (v: Record<string, unknown>) => unknown) => {
      const p = join(snap, 'run', `${key}.json`);
      writeFileSync(p, JSON.stringify(f(JSON.parse(readFileSync(p, 'utf8')))));
    };
    const garble = (snap: string, key: string, f: (b: Buffer) => Buffer) => {
      const p = join(snap, 'run', `${key}.json`);
      writeFileSync(p, f(readFileSync(p)));
    };
    const scenarios: Scenario[] = [
      { name: 'another model', make: (s) => ({ args: ['-c', cfg, '--model', join(MODELS, 'fmnist-resnet.onnx'), '--resume', s], names: ['different model', s] }) },
      { name: 'another config (maximal_drop)', make: (s) => ({ args: ['-c', aaq({ maximal_drop: 0.02 }, 'other.json'), '--resume', s], names: ['different config', s] }) },
      {
        name: 'other data (one label changed)',
        make: (s) => ({ args: ['-c', aaq({}, 'other-data.json', { labels: join(work, 'y-other.npy') }), '--resume', s], names: ['other data', s] }),
      },
      { name: 'DefaultQuantization config', make: (s) => ({ args: ['-c', writeJson(join(work, 'dq.json'), baseConfig()), '--resume', s], names: ['DefaultQuantization'] }) },
      {
        name: 'garbled state.json (bytes overwritten)',
        make: (s) => (garble(s, 'state', (b) => (b.fill(0x7b, 100, 140), b)), { args: ['-c', cfg, '--resume', s], names: ['state.json'] }),
      },
      { name: 'truncated state.json', make: (s) => (garble(s, 'state', (b) => b.subarray(0, b.length >> 1)), { args: ['-c', cfg, '--resume', s], names: ['state.json'] }) },
      { name: 'empty state.json', make: (s) => (garble(s, 'state', () => Buffer.alloc(0)), { args: ['-c', cfg, '--resume', s], names: ['state.json'] }) },
      { name: 'garbled meta.json', make: (s) => (garble(s, 'meta', (b) => b.subarray(3)), { args: ['-c', cfg, '--resume', s], names: ['meta.json'] }) },
      { name: 'meta.json not a record', make: (s) => (edit(s, 'meta', () => []), { args: ['-c', cfg, '--resume', s], names: ['meta.json'] }) },
      { name: 'state.json a bare object', make: (s) => (edit(s, 'state', () => ({ version: 1, phase: 'iterate' })), { args: ['-c', cfg, '--resume', s], names: ['state.json'] }) },
      { name: 'state.json unknown phase', make: (s) => (edit(s, 'state', (v) => ({ ...v, phase: 'teleport' })), { args: ['-c', cfg, '--resume', s], names: ['state.json'] }) },
      { name: 'state.json version 2', make: (s) => (edit(s, 'state', (v) => ({ ...v, version: 2 })), { args: ['-c', cfg, '--resume', s], names: ['state.json', 'version'] }) },
      {
        name: 'state.json spliced from another run (params)',
        make: (s) => (
          edit(s, 'state', (v) => ({ ...v, params: { ...(v.params as object), maximal_drop: 0.5 } })),
          { args: ['-c', cfg, '--resume', s], names: ['state.json', 'parameters'] }
        ),
      },
      { name: 'state.json history not a list', make: (s) => (edit(s, 'state', (v) => ({ ...v, history: 'lots' })), { args: ['-c', cfg, '--resume', s], names: ['state.json'] }) },
      { name: 'snapshot folder empty', make: (s) => (rmSync(join(s, 'run'), { recursive: true }), { args: ['-c', cfg, '--resume', s], names: [s] }) },
      { name: 'snapshot folder missing', make: (s) => (rmSync(s, { recursive: true }), { args: ['-c', cfg, '--resume', s], names: [s] }) },
      { name: 'snapshot "folder" is a file', make: (s) => (rmSync(s, { recursive: true }), writeFileSync(s, 'x'), { args: ['-c', cfg, '--resume', s], names: [s] }) },
    ];
    const results: string[] = [];
    let survived = 0;
    for (const [i, sc] of scenarios.entries()) {
      const dir = join(work, `s${i}`);
      const snap = join(dir, 'snap');
      mkdirSync(dir);
      cpSync(good, snap, { recursive: true });
      const { args, names } = sc.make(snap, dir);
      const out = join(dir, 'out.onnx');
      writeFileSync(out, 'previous output');
      const before = treeHash(dir);
      const r = await runCli(['quantize', '-q', '-o', out, '-r', join(dir, 'report.json'), ...args]);
      const v = judge(r, names);
      if (treeHash(dir) !== before) v.why.push('something under the run folder changed (snapshot, output or report)');
      if (!v.why.length) survived++;
      results.push(`${v.why.length ? 'FAIL' : 'ok  '} ${sc.name}: ${r.stderr.trim()}${v.why.length ? `  <-- ${v.why.join('; ')}` : ''}`);
    }
    // Control: the untouched snapshot resumes (so the refusals above are the faults' doing).
    const ok = await runCli(['quantize', '-q', '-c', cfg, '-o', join(work, 'resumed.onnx'), '--resume', good]);
    results.push(`${ok.code === 0 ? 'ok  ' : 'FAIL'} control: the untouched snapshot resumes (exit ${ok.code}) ${ok.stderr.trim()}`);
    console.log(`${results.join('\n')}\nfault scenarios (--resume): tried ${scenarios.length}, refused cleanly ${survived}`);
    expect(results.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(readFileSync(join(work, 'resumed.onnx'))).toEqual(readFileSync(join(work, 'first.onnx')));
  });
});
