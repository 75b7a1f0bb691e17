// Helpers for tests that drive the real CLI and read its outputs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'jsonc-parser';
import { main } from '../../src/cli/main';
import type { RunReport } from '../../src/core/report';

export const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../fixtures');

export function tempDir(prefix = 'aaq-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fixture config with the algorithm, model or dataset changed; written next to the fixtures' paths. */
export function writeConfig(
  dir: string,
  opts: {
    model: string;
    algorithm: 'DefaultQuantization' | 'AccuracyAwareQuantization';
    params?: Record<string, unknown>;
    metrics?: { name: string }[];
    labels?: string | null;
  },
): string {
  const base = parse(readFileSync(join(FIXTURES, 'fmnist-cnn.json'), 'utf8'));
  base.model.model = join(FIXTURES, 'models', opts.model);
  base.model.model_name = opts.model.replace('.onnx', '');
  base.engine.dataset.data_source = join(FIXTURES, base.engine.dataset.data_source);
  if (opts.labels === null) delete base.engine.dataset.labels;
  else base.engine.dataset.labels = join(FIXTURES, opts.labels ?? base.engine.dataset.labels);
  if (opts.metrics) base.engine.metrics = opts.metrics;
  base.compression.algorithms = [{ name: opts.algorithm, params: { preset: 'performance', stat_subset_size: 300, ...(opts.params ?? {}) } }];
  const path = join(dir, `${opts.model}-${opts.algorithm}.json`);
  writeFileSync(path, JSON.stringify(base, null, 2));
  return path;
}

/** Runs `aaq` in-process; returns exit code and captured stdout/stderr. */
export async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

export function readReport(path: string): RunReport {
  return JSON.parse(readFileSync(path, 'utf8')) as RunReport;
}
