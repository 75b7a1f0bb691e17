// The machine and versions for the bench header.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function version(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const j = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (j.name === pkg) return j.version ?? '?';
    } catch {
      /* climb */
    }
  }
  return '?';
}

export interface MachineInfo {
  nproc: number;
  cpu: string;
  ramGiB: number;
  os: string;
  versions: Record<string, string>;
  /** 1-minute load average when the bench started and ended (the machine is shared). */
  load: { start: number; end?: number };
}

export function machineInfo(): MachineInfo {
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    /* os.cpus() */
  }
  let chromium = 'not found';
  try {
    chromium = execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* absent */
  }
  return {
    nproc,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    ramGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    load: { start: Math.round(loadavg()[0] * 100) / 100 },
    versions: {
      node: process.version,
      'onnxruntime-node': version('onnxruntime-node'),
      'onnxruntime-web': version('onnxruntime-web'),
      'playwright-core': version('playwright-core'),
      chromium,
    },
  };
}
