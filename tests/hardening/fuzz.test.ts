// Issue 6, part 2: fuzzing the model reader and the config parser with fast-check. The properties
// run in a child process (fuzz-runner.ts) so that a hang is bounded (the child is killed) and
// memory is capped (--max-old-space-size) and measured (peak RSS).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PropertyStats } from './fuzz-runner';

const ROOT = join(import.meta.dirname, '../..');
const TOTAL_LIMIT_MS = 150_000; // the whole run, on two busy cores (it takes ~20 s idle)
const CASE_LIMIT_MS = 2_000; // any single case
const RSS_LIMIT_MIB = 1_024;

interface Summary {
  seed: number;
  cases: number;
  properties: PropertyStats[];
  maxRssMiB: number;
}

describe('fuzzing (fast-check)', () => {
  it('model reader and config parser: no crash but QuantizeError, no hang, bounded memory', () => {
    const r = spawnSync(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', join(ROOT, 'tests/hardening/fuzz-runner.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: TOTAL_LIMIT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: 16 * 2 ** 20,
    });
    const lastBeat = (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    expect(r.signal, `fuzz runner killed (hang or over ${TOTAL_LIMIT_MS} ms); last progress: ${lastBeat}`).toBeNull();
    expect(r.status, `fuzz runner failed: ${(r.stderr ?? '').slice(-2000)}`).toBe(0);
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('FUZZ-SUMMARY '));
    expect(line, 'no FUZZ-SUMMARY line').toBeDefined();
    const s = JSON.parse(line!.slice('FUZZ-SUMMARY '.length)) as Summary;
    const rows = s.properties.map(
      (p) =>
        `  ${p.name}: ${p.cases} cases (${p.accepted} accepted, ${p.refused} refused with QuantizeError), slowest ${p.maxMs.toFixed(0)} ms, ${p.seconds} s${p.failure ? `\n    FAILURE ${p.failure}` : ''}`,
    );
    console.log(`fuzz (seed ${s.seed}):\n${rows.join('\n')}\nfuzz cases: ${s.cases}, peak RSS ${s.maxRssMiB} MiB`);
    expect(s.properties.filter((p) => p.failure).map((p) => `${p.name}: ${p.failure}`)).toEqual([]);
    for (const p of s.properties) {
      expect(p.cases, p.name).toBeGreaterThan(0);
      expect(p.maxMs, `${p.name}: slowest case`).toBeLessThan(CASE_LIMIT_MS);
    }
    expect(s.cases).toBeGreaterThanOrEqual(5_000);
    expect(s.maxRssMiB).toBeLessThan(RSS_LIMIT_MIB);
  });
});
