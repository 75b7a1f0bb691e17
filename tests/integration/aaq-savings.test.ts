// Issue 5: the work savings (reuse_evaluations, early_stop, lazy_ranking — on by default) and the
// 'auto' / 'calibrate' evaluation modes take exactly POT's decisions on the zoo models that revert: each default
// run is compared with a run on POT's schedule (all savings off, one switchable session).
import { DROP_TOLERANCE } from '../../src/core/algorithms/drop';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { runAccuracyAware, type AaqResult } from '../../src/core/algorithms/accuracy-aware';
import type { EvalModeOption } from '../../src/core/evaluation/eval-mode';
import { prepareRun } from '../../src/node/run-setup';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const OFF = { reuse_evaluations: false, early_stop: false, lazy_ranking: false, prefix_cache: false };

/** A bench config with absolute paths and extra AAQ params. */
function config(name: string, params: Record<string, unknown>): string {
  const file = join(ROOT, 'bench/configs', `${name}.json`);
  const raw = parse(readFileSync(file, 'utf8'));
  const base = dirname(file);
  raw.model.model = resolve(base, raw.model.model);
  raw.engine.dataset.data_source = resolve(base, raw.engine.dataset.data_source);
  if (raw.engine.dataset.labels) raw.engine.dataset.labels = resolve(base, raw.engine.dataset.labels);
  Object.assign(raw.compression.algorithms[0].params, params);
  const out = join(mkdtempSync(join(tmpdir(), 'aaq-savings-')), `${name}.json`);
  writeFileSync(out, JSON.stringify(raw));
  return out;
}

async function run(name: string, params: Record<string, unknown>, mode: EvalModeOption) {
  const setup = await prepareRun({ config: config(name, params), mode });
  try {
    const result = await runAccuracyAware(setup.backend, setup.algorithm.params as never);
    return { result, counts: setup.backend.counts(), calibration: setup.backend.calibration, N: setup.dataset.size };
  } finally {
    await setup.backend.dispose();
    await setup.engine.dispose();
  }
}

const decisions = (r: AaqResult) => ({
  status: r.status,
  reverted: r.reverted,
  enabled: [...r.state.enabled].sort(),
  baseline: r.baseline,
  quantized: r.quantized,
  final: r.final,
  drop: r.drop,
  history: r.history.map((h) => [h.iteration, h.group, h.accepted, h.rolledBack, h.reranked]),
  rankings: r.rankings.map((k) => [k.afterIteration, k.subset]),
  messages: r.messages,
});

/** POT's schedule for the decisions of a run (baseline + statistics + quantized + rankings + iterations). */
function potSchedule(r: AaqResult, N: number): number {
  return N + Math.min(300, N) + N + r.rankings.reduce((a, k) => a + k.scores.length * k.subsetSize, 0) + r.history.length * N;
}

describe("AAQ work savings take POT's decisions on the zoo", () => {
  for (const [name, maximal_drop] of [
    ['fmnist-resnet', 0.001],
    ['fmnist-resnet', 0.003],
    ['ppocr-cls', 0.01],
  ] as const) {
    it(`${name}, maximal_drop ${maximal_drop}: same reverted groups and metrics from fewer inferences`, async () => {
      const pot = await run(name, { maximal_drop, ...OFF }, 'switchable');
      // 'calibrate' mixes switchable and per-configuration sessions: the decisions must not notice.
      const opt = await run(name, { maximal_drop }, maximal_drop === 0.003 ? 'auto' : 'calibrate');
      expect(decisions(opt.result)).toEqual(decisions(pot.result));
      expect(pot.result.reverted.length).toBeGreaterThan(0);
      expect(pot.result.status).toBe('met');
      // within the limit, float noise tolerated as every comparison with maximal_drop does (drop.ts)
      expect(opt.result.drop['accuracy@top1']).toBeLessThanOrEqual(maximal_drop + DROP_TOLERANCE);
      // POT's run is POT's schedule; the savings account for every inference the default run skipped.
      expect(pot.counts.inferences).toBe(potSchedule(pot.result, pot.N));
      const s = opt.result.savings;
      const saved = s.reuse_evaluations + s.early_stop + s.lazy_ranking;
      expect(opt.counts.inferences + saved - (opt.calibration?.checkSamples ?? 0)).toBe(pot.counts.inferences);
      const ratio = opt.counts.inferences / pot.counts.inferences;
      console.log(
        `${name} @${maximal_drop}: ${opt.counts.inferences} vs POT ${pot.counts.inferences} sample inferences (${ratio.toFixed(2)}); savings ${JSON.stringify(s)}; mode ${opt.calibration ? `calibrate → ${opt.calibration.chosen}` : 'auto'}`,
      );
      expect(ratio).toBeLessThan(name === 'ppocr-cls' ? 0.5 : 0.8);
      if (opt.calibration) expect(opt.calibration.identical).toBe(true);
    }, 600_000);
  }
});
