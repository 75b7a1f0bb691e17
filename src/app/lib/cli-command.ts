// The `aaq quantize …` command equivalent to the studio's settings (as Squoosh shows its CLI), and
// how to get the `aaq` command (README, "Command line").

import { DEFAULT_MEMORY_BYTES } from '../../core/run/memory';
import type { RunSettings } from '../../../workers/protocol';

const q = (s: string) => (/^[\w./@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export interface CliInput {
  configFile: string;
  modelFile: string;
  /** Data path relative to where the command runs (the data folder, or the inputs array). */
  data?: string;
  settings: RunSettings;
}

/** How to install `aaq` once (it is not on the npm registry: `npx aaq` there is another package). */
export const CLI_INSTALL = 'npm install && npm run build:cli && npm install -g .';
export const CLI_INSTALL_NOTE = `Install the command once, in an AAQ Studio checkout: ${CLI_INSTALL} (see the README). Then save the config next to the model and data, and run this from that folder.`;

export function cliCommand(c: CliInput): string {
  const stem = c.modelFile.replace(/\.onnx$/i, '');
  const parts = ['aaq quantize', `-c ${q(c.configFile)}`, `-m ${q(c.modelFile)}`];
  if (c.data) parts.push(`-d ${q(c.data)}`);
  // The browser's WASM engine is the CLI's wasm engine; WebGPU has no CLI twin (the CLI's native
  // engine is closest in speed, wasm in numerics).
  parts.push(`-e wasm`);
  if (c.settings.batchSize !== 16) parts.push(`-b ${c.settings.batchSize}`);
  if (c.settings.mode !== 'auto') parts.push(`--mode ${c.settings.mode}`);
  if (c.settings.memoryMiB !== undefined && c.settings.memoryMiB * 2 ** 20 !== DEFAULT_MEMORY_BYTES) parts.push(`--memory ${c.settings.memoryMiB}`);
  parts.push(`-o ${q(`${stem}-int8.onnx`)}`, `-r ${q(`${stem}-report.json`)}`);
  return parts.join(' \\\n    ');
}
