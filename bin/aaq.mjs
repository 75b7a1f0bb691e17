#!/usr/bin/env node
// `npx aaq …`: runs the TypeScript CLI through tsx (no build step).
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
register();
const { main } = await import(fileURLToPath(new URL('../src/cli/main.ts', import.meta.url)));
process.exit(await main(process.argv.slice(2)));
