// Issue 6, part 1: every bad input gets a non-zero exit and one clear line on stderr (naming the
// file and/or field and what was expected, no stack trace), and no output is written.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { badDataCases } from './bad-data';
import { badModelCases, type BadCase } from './bad-models';
import { decodeModel } from '../../src/core/onnx/proto';
import { QuantizeError } from '../../src/core/types';
import { BAD, CNN, baseConfig, judge, runCli, runCliChild, tempDir, writeJson, type CliResult } from './cli-harness';

const configCases: BadCase[] = readdirSync(join(BAD, 'configs'))
  .filter((f) => f.endsWith('.jsonc'))
  .sort()
  .map((f) => {
    const path = join(BAD, 'configs', f);
    const expect = /^\/\/ expect: (.+)$/m.exec(readFileSync(path, 'utf8'))?.[1]?.trim();
    if (!expect) throw new Error(`${f}: first line must be '// expect: …'`);
    return { name: `config ${f}`, make: () => ({ args: ['-c', path], names: [expect] }) };
  });

const cliCases: BadCase[] = [
  { name: 'config file missing', make: (d) => ({ args: ['-c', join(d, 'nope.json')], names: ['nope.json'] }) },
  { name: 'config is a folder', make: (d) => ({ args: ['-c', d], names: [d] }) },
  { name: '--batch 0', make: (d) => ({ args: ['-c', writeJson(join(d, 'c.json'), baseConfig()), '--batch', '0'], names: ['--batch'] }) },
  { name: '--threads many', make: (d) => ({ args: ['-c', writeJson(join(d, 'c.json'), baseConfig()), '--threads', 'many'], names: ['--threads'] }) },
];

// A few run as real child processes (what a user sees, including process exit codes).
const CHILD = new Set(['random bytes .onnx', 'config syntax-error.jsonc', 'labels out of the model range (.npy)', 'custom-domain-op']);

const all: BadCase[] = [...badModelCases, ...badDataCases, ...configCases, ...cliCases];
const root = tempDir('bad');
const results: { name: string; clear: boolean; why: string[]; stderr: string }[] = [];

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('model size limit (in memory, as the studio reads files)', () => {
  it('decodeModel refuses bytes over an injected limit before decoding them', () => {
    const bytes = new Uint8Array(readFileSync(CNN));
    expect(decodeModel(bytes, 'cnn.onnx', bytes.length).graph).toBeTruthy();
    expect(() => decodeModel(bytes, 'cnn.onnx', bytes.length - 1)).toThrow(QuantizeError);
    expect(() => decodeModel(bytes, 'cnn.onnx', 2 ** 19)).toThrow(/cnn\.onnx: model is 866455 bytes \(0\.8 MiB\), over the limit \(expected a model of at most 0\.5 MiB\)/);
  });
});

describe('bad input corpus (CLI)', () => {
  it(`refuses each of ${all.length} bad inputs with a clear one-line message`, async () => {
    for (const [i, c] of all.entries()) {
      const dir = join(root, String(i));
      const out = join(dir, 'out.onnx');
      const report = join(dir, 'report.json');
      let r: CliResult;
      let names: string[];
      try {
        mkdirSync(dir, { recursive: true });
        const made = c.make(dir);
        names = made.names;
        const argv = ['quantize', '-q', '-o', out, '-r', report, '--snapshots', join(dir, 'snap'), ...made.args];
        r = CHILD.has(c.name) || c.child ? runCliChild(argv) : await runCli(argv);
      } catch (e) {
        r = { code: -1, stdout: '', stderr: `setup failed: ${(e as Error).stack}` };
        names = [];
      }
      const v = judge(r, names);
      if (existsSync(out) || existsSync(report)) v.why.push('wrote an output file');
      v.clear = v.why.length === 0;
      results.push({ name: c.name, clear: v.clear, why: v.why, stderr: r.stderr.trim() });
    }
    const clear = results.filter((r) => r.clear).length;
    const lines = results.map((r) => `${r.clear ? 'ok  ' : 'FAIL'} ${r.name}: ${r.stderr.split('\n').join(' | ')}${r.clear ? '' : `  <-- ${r.why.join('; ')}`}`);
    console.log(`${lines.join('\n')}\nbad inputs: tried ${results.length}, clear ${clear}`);
    expect(results.filter((r) => !r.clear).map((r) => `${r.name}: ${r.why.join('; ')} — ${r.stderr}`)).toEqual([]);
    expect(clear).toBe(results.length);
  });
});
