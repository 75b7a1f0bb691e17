// Issue 5: the ways of evaluating a candidate configuration compute the same numbers bit for bit on
// the zoo, on both Node engines: the switchable session gated by If (AAQ's default on CPU) or by
// Where, and the fake-quant session built per configuration; with every quantizer off, the FP32
// model. That is what lets AAQ pick the faster way per back end (and 'calibrate' mix them) without
// changing a decision.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { revertGroup, type QuantState } from '../../src/core/algorithms/backend';
import { FAKE_QUANT_SESSION_OPTIONS } from '../../src/core/evaluation/candidate-models';
import { runDataset } from '../../src/core/engine/runner';
import { encodeModel } from '../../src/core/onnx/proto';
import { EXACT_SESSION_OPTIONS } from '../../src/core/quant/switchable';
import { prepareRun } from '../../src/node/run-setup';

const BENCH = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../bench/configs');
const EXACT = EXACT_SESSION_OPTIONS as unknown as Record<string, unknown>;

describe('switchable (If, Where) and per-configuration sessions agree bit for bit', () => {
  for (const [name, engine] of [
    ['fmnist-cnn', 'native'],
    ['fmnist-resnet', 'wasm'],
    ['fmnist-mobilenet', 'native'],
    ['ppocr-cls', 'native'],
    ['ppocr-cls', 'wasm'],
  ] as const) {
    it(`${name} on ${engine}`, async () => {
      const setup = await prepareRun({ config: join(BENCH, `${name}.json`), engine });
      const { backend: b, engine: e, dataset } = setup;
      try {
        const full = await b.quantize(setup.algorithm.params);
        const groups = b.groups(full);
        const states: QuantState[] = [{ ...full, enabled: [] }, full, revertGroup(full, groups[0]), revertGroup(full, groups[groups.length - 1])];
        const idx = Array.from({ length: Math.min(48, dataset.size) }, (_, i) => i);
        const io = { inputName: b.inputName, outputName: b.outputName, batchSize: 16 };
        const bits = async (session: Awaited<ReturnType<typeof e.createSession>>, feeds = {}) =>
          (await runDataset(e, session, dataset, idx, { ...io, extraFeeds: feeds })).outputs.map((o) => Array.from(new Uint32Array((o.data as Float32Array).slice().buffer)));
        const sws = await Promise.all((['if', 'where'] as const).map(async (gate) => ({ gate, ...b.candidates.switchable('qdq', gate) })));
        const swSessions = await Promise.all(sws.map((s) => e.createSession(encodeModel(s.model), EXACT)));
        const fp32 = await bits(await e.createSession(encodeModel(setup.model), EXACT));
        for (const st of states) {
          const ref = st.enabled.length ? await bits(await e.createSession(encodeModel(b.candidates.fakeQuantModel(st)), FAKE_QUANT_SESSION_OPTIONS)) : fp32;
          for (let k = 0; k < sws.length; k++) {
            expect(await bits(swSessions[k], b.candidates.feeds(sws[k].layout, st)), `${sws[k].gate}, ${st.enabled.length} quantizers on`).toEqual(ref);
          }
        }
      } finally {
        await b.dispose();
        await e.dispose();
      }
    }, 300_000);
  }
});
