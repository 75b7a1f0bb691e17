// Issue 5: prefix_cache resumes ranking candidates from cached activations. A resumed candidate's
// outputs must be bit for bit those of the whole switchable graph, on the zoo and both Node
// engines; the cache must actually serve most samples (so the test is not vacuous).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { revertGroup } from '../../src/core/algorithms/backend';
import { runDataset } from '../../src/core/engine/runner';
import { encodeModel } from '../../src/core/onnx/proto';
import { planPrefixCuts } from '../../src/core/quant/prefix-cuts';
import { EXACT_SESSION_OPTIONS } from '../../src/core/quant/switchable';
import { prepareRun } from '../../src/node/run-setup';

const BENCH = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../bench/configs');
const EXACT = EXACT_SESSION_OPTIONS as unknown as Record<string, unknown>;
const bitsOf = (outs: { data: unknown }[]) => outs.map((o) => Array.from(new Uint32Array((o.data as Float32Array).slice().buffer)));

describe('prefix_cache: resumed candidates equal the whole graph bit for bit', () => {
  for (const [name, engine] of [
    ['fmnist-resnet', 'native'],
    ['fmnist-mobilenet', 'wasm'],
    ['ppocr-cls', 'native'],
    ['ppocr-cls', 'wasm'],
  ] as const) {
    it(`${name} on ${engine}`, async () => {
      const setup = await prepareRun({ config: join(BENCH, `${name}.json`), engine });
      const { backend: b, engine: e, dataset } = setup;
      expect(setup.algorithm.name).toBe('AccuracyAwareQuantization');
      try {
        const full = await b.quantize(setup.algorithm.params);
        const idx = Array.from({ length: Math.min(40, dataset.size) }, (_, i) => i);
        await b.evaluate(full, idx); // the switchable session learns its batch mode
        const groups = b.groups(full);
        const order = await b.prepareRanking(full, groups);
        expect(new Set(order.map((g) => g.id))).toEqual(new Set(groups.map((g) => g.id)));
        // Reference: the plain switchable graph (no cut outputs), each candidate run whole.
        const sw = b.candidates.switchable('qdq', 'if');
        const plain = await e.createSession(encodeModel(sw.model), EXACT);
        const io = { inputName: b.inputName, outputName: b.outputName, batchSize: 16 };
        for (const g of order) {
          const cand = revertGroup(full, g);
          const got = await b.sessions.run(cand, idx);
          const want = await runDataset(e, plain, dataset, idx, { ...io, extraFeeds: b.candidates.feeds(sw.layout, cand) });
          expect(bitsOf(got.outputs), `group ${g.id}`).toEqual(bitsOf(want.outputs));
          expect(got.labels).toEqual(want.labels);
        }
        const use = b.prefixUse!;
        expect(use.captured).toBe(idx.length);
        // every candidate after the first resumes (the deepest-first order guarantees a cut for most)
        expect(use.resumed).toBeGreaterThan(0.5 * (order.length - 1) * idx.length);
        expect(use.skipped / use.resumed).toBeGreaterThan(0.2);
      } finally {
        await b.dispose();
        await e.dispose();
      }
    }, 300_000);
  }

  it('cuts only at single gated float tensors, and the suffix reads no data input', async () => {
    const setup = await prepareRun({ config: join(BENCH, 'ppocr-cls.json') });
    try {
      const sw = setup.backend.candidates.switchable('qdq', 'if');
      const plan = planPrefixCuts(sw.model, sw.layout, setup.backend.inputName, setup.backend.outputName, setup.dataset.sampleShape)!;
      expect(plan.cuts.length).toBeGreaterThanOrEqual(3);
      const gated = new Set(sw.layout.activations.map((a) => a.tensor));
      for (const c of plan.cuts) expect(gated.has(c.tensor)).toBe(true);
      const shares = plan.cuts.map((c) => c.share);
      expect([...shares].sort((a, b) => a - b)).toEqual(shares);
    } finally {
      await setup.backend.dispose();
      await setup.engine.dispose();
    }
  }, 120_000);
});
