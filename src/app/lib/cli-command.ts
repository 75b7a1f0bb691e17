// The `npx aaq quantize …` command equivalent to the studio's settings (as Squoosh shows its CLI).

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

export function cliCommand(c: CliInput): string {
  const stem = c.modelFile.replace(/\.onnx$/i, '');
  const parts = ['npx aaq quantize', `-c ${q(c.configFile)}`, `-m ${q(c.modelFile)}`];
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
