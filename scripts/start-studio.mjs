// `npm start`: build the studio into dist/ and serve it with the headers it needs (cross-origin
// isolation and the CSP, from vite.config.ts). `npm start -- --port 8080` (or AAQ_PORT=8080) picks
// the port, `--host 0.0.0.0` the interface; a port in use is one line naming the option, not a stack trace.
import { createServer } from 'node:net';
import { build, preview } from 'vite';

const args = process.argv.slice(2);

function option(name) {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq === undefined ? undefined : eq.slice(name.length + 1);
}

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

const known = new Set(['--port', '--host']);
for (const a of args) {
  if (a.startsWith('--') && !known.has(a.split('=')[0])) fail(`unknown option ${a} (options: --port N, --host H)`);
}

const portText = option('--port') ?? process.env.AAQ_PORT ?? '5173';
const port = Number(portText);
if (!/^\d+$/.test(portText) || port < 1 || port > 65535) fail(`--port must be a port number from 1 to 65535, not "${portText}"`);
const host = option('--host') ?? 'localhost';

const inUse = () => fail(`port ${port} is already in use; serve on another one with: npm start -- --port ${port + 1}   (or AAQ_PORT=${port + 1} npm start)`);

// Before the build: a busy port should not cost a build first.
await new Promise((resolve) => {
  const probe = createServer();
  probe.once('error', (e) => (e.code === 'EADDRINUSE' ? inUse() : resolve()));
  probe.listen(port, host, () => probe.close(resolve));
});

try {
  await build({ logLevel: 'warn' });
} catch (e) {
  fail(`the build failed: ${e instanceof Error ? e.message : String(e)}`);
}

try {
  const server = await preview({ preview: { port, strictPort: true, host, open: false } });
  server.printUrls();
} catch (e) {
  const text = e instanceof Error ? e.message : String(e);
  if (/in use|EADDRINUSE/i.test(text)) inUse();
  fail(`the server did not start: ${text}`);
}
