// A snapshot folder in use is locked (src/node/folder-lock.ts): a second process cannot write or
// resume it; a lock left by a process that is gone is taken over, with a message.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockFolder, processAlive } from '../../src/node/folder-lock';
import { runCli, tempDir, writeConfig } from './cli-helpers';

/** A live process that is not this one (it sleeps until killed). */
function sleeper() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  return child;
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(processAlive(pid)).toBe(false);
  return pid;
}

const children: ReturnType<typeof sleeper>[] = [];
afterAll(() => {
  for (const c of children) c.kill();
});

describe('snapshot folder lock', () => {
  it('a folder locked by a live process is refused, naming its pid; the lock file is left alone', () => {
    const dir = tempDir('aaq-lock-');
    const other = sleeper();
    children.push(other);
    writeFileSync(join(dir, LOCK_FILE), `${other.pid}\n`);
    expect(() => lockFolder(dir)).toThrow(new RegExp(`is in use by another aaq process \\(pid ${other.pid}, lock file .*aaq\\.lock\\).*expected`, 's'));
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${other.pid}\n`);
  });

  it('a stale lock (its process is gone) is taken over with a message, and released at the end', () => {
    const dir = tempDir('aaq-lock-');
    const dead = deadPid();
    writeFileSync(join(dir, LOCK_FILE), `${dead}\n`);
    const notes: string[] = [];
    const lock = lockFolder(dir, (m) => notes.push(m));
    expect(notes).toEqual([`Taking over the lock of ${dir}: its process (pid ${dead}) is no longer running`]);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    // A second run in this same process is refused too.
    expect(() => lockFolder(dir)).toThrow(/is in use by another aaq process/);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockFolder(dir).release();
  });

  it('aaq quantize refuses a snapshot folder another process holds (exit 1, one line), and runs once it is free', async () => {
    const dir = tempDir('aaq-lock-cli-');
    const cfg = writeConfig(dir, { model: 'fmnist-cnn.onnx', algorithm: 'AccuracyAwareQuantization', params: { maximal_drop: 0.05 } });
    const snaps = join(dir, 'snaps');
    mkdirSync(snaps);
    const other = sleeper();
    children.push(other);
    writeFileSync(join(snaps, LOCK_FILE), `${other.pid}\n`);
    const args = ['quantize', '-c', cfg, '-o', join(dir, 'q.onnx'), '--snapshots', snaps, '-q'];
    const refused = await runCli(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`is in use by another aaq process (pid ${other.pid}`);
    expect(existsSync(join(dir, 'q.onnx'))).toBe(false);
    // The same with --resume.
    const resumed = await runCli(['quantize', '-c', cfg, '-o', join(dir, 'q.onnx'), '--resume', snaps, '-q']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain('is in use by another aaq process');
    other.kill();
    await new Promise<void>((done) => other.once('exit', () => done()));
    const free = await runCli(args.filter((a) => a !== '-q'));
    expect(free.code, free.stderr).toBe(0);
    expect(free.stderr).toContain(`Taking over the lock of ${snaps}: its process (pid ${other.pid}) is no longer running`);
    expect(existsSync(join(snaps, LOCK_FILE))).toBe(false);
  }, 120_000);
});
