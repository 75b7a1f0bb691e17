// Issue 13 acceptance: the README's install (`npm run build:cli`, then `npm install -g .` — here
// into a temporary prefix, offline) gives an `aaq` command that runs from a folder outside the
// checkout, with no npm warning on stderr, and prints each progress update once when piped.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, tempDir } from './cli-helpers';

const ROOT = resolve(FIXTURES, '../..');
let prefix = '';
let work = '';

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, AAQ_DEBUG: '' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

beforeAll(() => {
  const build = run('npm', ['run', 'build:cli'], ROOT);
  expect(build.code, build.stderr).toBe(0);
  expect(existsSync(join(ROOT, 'dist-cli/aaq.mjs'))).toBe(true);
  const tmp = tempDir('aaq-install-');
  prefix = join(tmp, 'prefix');
  // From outside the checkout, as a user would (the checkout's .npmrc does not apply there).
  const install = run('npm', ['install', '-g', '--offline', '--prefix', prefix, ROOT], tmp);
  expect(install.code, install.stderr).toBe(0);
  expect(install.stdout + install.stderr).not.toMatch(/npm warn/i);
  work = join(tmp, 'work');
  cpSync(join(FIXTURES, 'ocr-img-24'), join(work, 'lines'), { recursive: true });
  cpSync(join(FIXTURES, 'models/ch_ppocr_mobile_v2.0_cls_infer.onnx'), join(work, 'cls.onnx'));
  const cfg = {
    model: { model_name: 'ppocr-cls', model: 'cls.onnx' },
    engine: { dataset: { data_source: 'lines/', color: 'bgr', preprocessing: [{ type: 'normalization', mean: 127.5, std: 127.5 }] }, metrics: [{ name: 'accuracy@top1' }] },
    compression: { algorithms: [{ name: 'AccuracyAwareQuantization', params: { preset: 'performance', maximal_drop: 0.05 } }] },
  };
  writeFileSync(join(work, 'cls.json'), JSON.stringify(cfg));
}, 240_000);

describe('aaq installed as a command', () => {
  it('aaq eval runs from a folder outside the checkout, with no npm warning', () => {
    const r = run(join(prefix, 'bin/aaq'), ['eval', '-c', 'cls.json'], work);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/npm warn|npm WARN|Unknown project config/);
    const out = JSON.parse(r.stdout);
    expect(out.samples).toBe(24);
    expect(out.metrics['accuracy@top1']).toBeGreaterThan(0.9);
    expect(out.sanity).toEqual({ reliable: true, findings: [] });
  });

  it('aaq quantize piped: each progress update appears once (the command ran once)', () => {
    const r = run(join(prefix, 'bin/aaq'), ['quantize', '-c', 'cls.json', '-o', 'cls-int8.onnx', '-r', 'report.json'], work);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.filter((l) => l === '[FP32 baseline] 24/24')).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('[Default INT8] accuracy@top1'))).toHaveLength(1);
    expect(lines.filter((l, i) => l.startsWith('[') && lines.indexOf(l) !== i)).toEqual([]);
    expect(r.stderr).not.toMatch(/\r/);
    expect(r.stdout.match(/^AccuracyAwareQuantization on ppocr-cls/gm)).toHaveLength(1);
    expect(existsSync(join(work, 'cls-int8.onnx'))).toBe(true);
  });

  it('aaq without a command exits 1 with the help', () => {
    const r = run(join(prefix, 'bin/aaq'), [], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Usage: aaq');
  });
});
