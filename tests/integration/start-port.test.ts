// `npm start` (scripts/start-studio.mjs): a port already in use, or not a port, is one line on
// stderr naming the option to use and exit code 1, before any build (no stack trace).

import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/start-studio.mjs');

let busy: Server;
let port = 0;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, 'localhost', resolve));
  port = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

function start(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
}

it('says in one line that the port is taken and how to pick another', () => {
  for (const r of [start(['--port', String(port)]), start([`--port=${port}`]), start([], { AAQ_PORT: String(port) })]) {
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`port ${port} is already in use`);
    expect(lines[0]).toContain(`npm start -- --port ${port + 1}`);
    expect(lines[0]).not.toMatch(/\n\s+at /);
  }
});

it('refuses what is not a port, and unknown options, in one line', () => {
  const bad = start(['--port', 'http']);
  expect(bad.status).toBe(1);
  expect(bad.stderr.trim()).toBe('npm start: --port must be a port number from 1 to 65535, not "http"');
  const unknown = start(['--prot', '8080']);
  expect(unknown.status).toBe(1);
  expect(unknown.stderr.trim()).toBe('npm start: unknown option --prot (options: --port N, --host H)');
});
