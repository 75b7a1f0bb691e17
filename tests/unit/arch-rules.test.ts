// The architecture rules bite: small violating files in a temporary tree laid out like the repo,
// checked by the real tools with the project's own configs (.dependency-cruiser.cjs,
// tsconfig.core.json, .prettierrc.json). `npm run check` runs the same tools on the real tree.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = (rel: string) => join(REPO, 'node_modules', rel);

let root = '';

function write(rel: string, text: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
}

function run(args: string[], cwd = root): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'aaq-arch-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  interface Violation {
    from: string;
    to: string;
    rule: { name: string };
  }
  let violations: Violation[] = [];

  beforeAll(() => {
    // Conforming files: a front end importing the core, the core importing itself.
    write('src/core/ok.ts', "import { b } from './cycle-b';\nexport const ok = b;\n");
    write('src/node/x.ts', "import { ok } from '../core/ok';\nexport const x = ok;\n");
    write('workers/x.ts', "import { ok } from '../src/core/ok';\nexport const w = ok;\n");
    write('src/app/x.ts', "import { w } from '../../workers/x';\nexport const a = w;\n");
    // Violations.
    write('src/core/cycle-a.ts', "import { b } from './cycle-b';\nexport const a = () => b;\n");
    write('src/core/cycle-b.ts', "import type { a } from './cycle-a';\nexport const b = 1 as unknown as ReturnType<typeof a>;\n");
    write('src/core/to-node.ts', "import { x } from '../node/x';\nexport const y = x;\n");
    write('src/core/to-workers.ts', "import { w } from '../../workers/x';\nexport const y = w;\n");
    write('src/core/to-fs.ts', "import { readFileSync } from 'node:fs';\nimport { join } from 'path';\nexport const y = [readFileSync, join];\n");
    write('src/app/to-node.ts', "import { x } from '../node/x';\nexport const y = x;\n");
    write('src/core/to-ort-node.ts', "import { InferenceSession } from 'onnxruntime-node';\nexport const y = InferenceSession;\n");
    write('src/core/to-nowhere.ts', "import { z } from './no-such-file';\nexport const y = z;\n");
    write(
      'workers/to-node.ts',
      "import { x } from '../src/node/x';\nimport { join } from 'node:path';\nimport { InferenceSession } from 'onnxruntime-node';\nexport const y = [x, join, InferenceSession];\n",
    );
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
    const depcruise = (outputType: string) =>
      run([bin('dependency-cruiser/bin/dependency-cruise.mjs'), 'src', 'workers', '--config', join(REPO, '.dependency-cruiser.cjs'), '--output-type', outputType]);
    const r = depcruise('json');
    violations = JSON.parse(r.out.slice(r.out.indexOf('{'))).summary.violations;
    // What `npm run lint:deps` runs (the default 'err' reporter): it exits non-zero.
    const lint = depcruise('err');
    expect(lint.status, lint.out).not.toBe(0);
    expect(lint.out).toMatch(/error no-circular/);
  }, 60_000);

  const found = (rule: string, from: string) => violations.filter((v) => v.rule.name === rule && v.from === from).map((v) => v.to);

  it('reports an import cycle (type-only imports included)', () => {
    expect(found('no-circular', 'src/core/cycle-a.ts').length).toBeGreaterThan(0);
  });

  it("reports the core importing src/node ('../node/x') and workers/ ('../../workers/x')", () => {
    expect(found('core-not-to-front-ends', 'src/core/to-node.ts')).toEqual(['src/node/x.ts']);
    expect(found('core-not-to-front-ends', 'src/core/to-workers.ts')).toEqual(['workers/x.ts']);
  });

  it('reports the core importing Node built-ins (node:fs, path)', () => {
    expect(found('core-no-node-builtins', 'src/core/to-fs.ts').sort()).toEqual(['fs', 'path']);
  });

  it('reports the studio importing src/node', () => {
    expect(found('app-not-to-node', 'src/app/to-node.ts')).toEqual(['src/node/x.ts']);
  });

  it('reports the core importing a Node-only package', () => {
    expect(found('core-no-node-only-packages', 'src/core/to-ort-node.ts')).toHaveLength(1);
  });

  it('reports web workers importing src/node, a Node built-in or a Node-only package', () => {
    expect(found('workers-not-to-node', 'workers/to-node.ts')).toEqual(['src/node/x.ts']);
    expect(found('browser-no-node-builtins', 'workers/to-node.ts')).toEqual(['path']);
    expect(found('browser-no-node-only-packages', 'workers/to-node.ts')).toHaveLength(1);
  });

  it('reports an import that does not resolve', () => {
    expect(found('not-to-unresolvable', 'src/core/to-nowhere.ts')).toEqual(['./no-such-file']);
  });

  it('leaves conforming imports alone', () => {
    const bad = new Set(violations.map((v) => v.from));
    for (const f of ['src/core/ok.ts', 'src/node/x.ts', 'workers/x.ts', 'src/app/x.ts']) expect(bad.has(f), f).toBe(false);
  });
});

describe('DOM-free core (tsconfig.core.json)', () => {
  let errors: string[] = [];

  beforeAll(() => {
    write('tsc-core/src/core/dom.ts', 'export const title = document.title;\n');
    write('tsc-core/src/core/win.ts', 'export const width = window.innerWidth;\n');
    write('tsc-core/src/core/node-global.ts', "export const cwd = process.cwd();\nexport const buf = Buffer.from('x');\n");
    // What the core may use (declared in src/core/globals.d.ts).
    write(
      'tsc-core/src/core/portable.ts',
      "export const t = performance.now();\nexport const bytes = new TextEncoder().encode('x');\nexport const s = new TextDecoder('utf-8').decode(bytes);\n",
    );
    write('tsc-core/tsconfig.json', JSON.stringify({ extends: join(REPO, 'tsconfig.core.json'), include: ['src/core/**/*.ts', join(REPO, 'src/core/globals.d.ts')] }));
    const r = run([bin('typescript/bin/tsc'), '-p', join(root, 'tsc-core/tsconfig.json'), '--pretty', 'false']);
    expect(r.status, r.out).not.toBe(0);
    errors = r.out.split('\n').filter((l) => l.includes('error TS'));
  }, 60_000);

  const errorsIn = (file: string) => errors.filter((l) => l.startsWith(`tsc-core/src/core/${file}(`));

  it('fails on document and window', () => {
    expect(errorsIn('dom.ts').join('\n')).toMatch(/Cannot find name 'document'/);
    expect(errorsIn('win.ts').join('\n')).toMatch(/Cannot find name 'window'/);
  });

  it('fails on Node globals', () => {
    expect(errorsIn('node-global.ts').join('\n')).toMatch(/Cannot find name 'process'/);
    expect(errorsIn('node-global.ts').join('\n')).toMatch(/Cannot find name 'Buffer'/);
  });

  it('accepts the globals shared by Node and browsers', () => {
    expect(errorsIn('portable.ts')).toEqual([]);
  });
});

describe('formatting (.prettierrc.json)', () => {
  it('fails prettier --check on unformatted code and passes on formatted code', () => {
    write('fmt/ugly.ts', 'export const a = {b:1,c:"x"}\n');
    write('fmt/ugly.svelte', '<script lang="ts">\n  let n=$state(0)\n</script>\n\n<button onclick={()=>n++}>{n}</button>\n');
    write('fmt/tidy.ts', "export const a = { b: 1, c: 'x' };\n\nexport function f(xs: number[]): number[] {\n  return xs.map((x) => x * 2);\n}\n");
    // From the repo root, as `npm run format:check` (the config's plugins resolve from there).
    const prettier = (file: string) => run([bin('prettier/bin/prettier.cjs'), '--config', join(REPO, '.prettierrc.json'), '--check', join(root, file)], REPO);
    const ugly = prettier('fmt/ugly.ts');
    expect(ugly.status, ugly.out).toBe(1);
    expect(ugly.out).toMatch(/ugly\.ts/);
    const uglySvelte = prettier('fmt/ugly.svelte');
    expect(uglySvelte.status, uglySvelte.out).toBe(1);
    const tidy = prettier('fmt/tidy.ts');
    expect(tidy.status, tidy.out).toBe(0);
  }, 60_000);
});
