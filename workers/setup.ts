// The studio's side of preparing a run: the picked files as an in-memory FileSource and the config
// text parsed; src/core/run/inputs.ts does the rest, exactly as for `aaq quantize`.
import { parsePotConfig } from '../src/core/config/parse';
import { MemorySource } from '../src/core/data/memory-source';
import { prepareInputs, type PreparedInputs } from '../src/core/run/inputs';
import type { DataInput } from './protocol';

export async function memorySource(data: DataInput): Promise<MemorySource> {
  const src = new MemorySource({}, data.name);
  const bytes = await Promise.all(data.files.map(async (f) => new Uint8Array(await f.file.arrayBuffer())));
  data.files.forEach((f, i) => src.add(f.path, bytes[i]));
  return src;
}

/** The run's inputs from the picked model and data and the config text (paths relative to the data root). */
export async function browserInputs(configText: string, modelName: string, modelBytes: Uint8Array, data: DataInput): Promise<PreparedInputs> {
  return prepareInputs({
    parsed: parsePotConfig(configText, 'config.json'),
    configName: 'config.json',
    modelBytes,
    modelName,
    source: await memorySource(data),
  });
}
