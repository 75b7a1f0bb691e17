// Runs the real `aaq` CLI entry (main(argv) from src/cli/main.ts) in-process or as a child
// process, and judges whether a failure message is "clear": exit code 1 (bad input, not an
// internal error), exactly one line on stderr (run with --quiet), no stack trace, naming the
// file and/or field, and saying what was expected.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIX = join(ROOT, 'tests/fixtures');
export const MODELS = join(FIX, 'models');
export const CNN = join(MODELS, 'fmnist-cnn.onnx');
export const X40 = join(FIX, 'fmnist-40-x.npy');
export const Y40 = join(FIX, 'fmnist-40-y.npy');
export const IMG40 = join(FIX, 'fmnist-img-40');
export const BAD = join(FIX, 'bad');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** main(argv) in this process, with stdout/stderr captured. */
export async function runCli(argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    // main must never throw; record it as a crash
    stderr += `THREW: ${(e as Error)?.stack ?? String(e)}\n`;
    code = -1;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return { code, stdout, stderr };
}

/** The CLI as a child process (`tsx src/cli/main.ts …`), as a user runs it. */
export function runCliChild(argv: string[], env: Record<string, string> = {}, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, AAQ_DEBUG: '', ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export interface Verdict {
  clear: boolean;
  why: string[];
}

/** `names`: each must appear in the message (a file's base name, a field path, …); an entry
 *  'a|b' accepts either. */
export function judge(r: CliResult, names: string[]): Verdict {
  const why: string[] = [];
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  if (r.code !== 1) why.push(`exit code ${r.code}, expected 1`);
  if (lines.length !== 1) why.push(`${lines.length} lines on stderr`);
  if (/^\s+at /m.test(r.stderr) || /THREW|internal error/.test(r.stderr)) why.push('stack trace or internal error');
  const msg = lines.join(' ');
  if (!msg.startsWith('aaq: ')) why.push('message does not start with "aaq: "');
  for (const n of names) if (!n.split('|').some((alt) => msg.includes(alt))) why.push(`does not name ${JSON.stringify(n)}`);
  if (!/expected/.test(msg)) why.push('does not say what was expected');
  return { clear: why.length === 0, why };
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `aaq-${tag}-`));
}

/** A valid config object for fmnist-cnn on the 40-sample .npy data, DefaultQuantization. */
export function baseConfig(
  over: { model?: string; data?: string; labels?: string | null; params?: Record<string, unknown>; algorithm?: string; dataset?: Record<string, unknown> } = {},
) {
  const dataset: Record<string, unknown> = {
    data_source: over.data ?? X40,
    color: 'gray',
    preprocessing: [{ type: 'normalization', mean: 72.93, std: 90.015 }],
    ...over.dataset,
  };
  if (over.labels !== null) dataset.labels = over.labels ?? Y40;
  return {
    model: { model_name: 'bad-case', model: over.model ?? CNN },
    engine: { dataset, metrics: [{ name: 'accuracy@top1' }] },
    compression: {
      target_device: 'ANY',
      algorithms: [{ name: over.algorithm ?? 'DefaultQuantization', params: { preset: 'performance', stat_subset_size: 8, ...over.params } }],
    },
  };
}

export function writeJson(path: string, value: unknown): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}
