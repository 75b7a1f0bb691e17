// The Load screen's run check: everything `aaq quantize` checks before a run starts, on the picked
// files, through the same pipeline (src/core/run/: the config, the model and its input, the data
// and its sizes, the metrics against the labels, the FP32 session, the first sample through the
// model and the classes it scores against the labels), so the studio refuses what the CLI refuses
// with the same message. It runs on a one-thread WASM engine that is gone when the check ends.
import { OpenedRun } from '../src/core/run/open-run';
import { QuantizeError } from '../src/core/types';
import { createEngine } from './engine';
import type { DataInput } from './protocol';
import { browserInputs } from './setup';

/** null when a run can start on these files; otherwise the CLI's message for them. */
export async function checkRun(configText: string, modelName: string, modelBytes: Uint8Array, data: DataInput): Promise<string | null> {
  try {
    const inputs = await browserInputs(configText, modelName, modelBytes, data);
    const run = await OpenedRun.open(inputs, { engines: { create: async () => (await createEngine('wasm', 1)).engine } });
    await run.dispose();
    return null;
  } catch (e) {
    if (e instanceof QuantizeError) return e.message;
    throw e;
  }
}
