// The metric registry (src/core/metrics/registry.ts): what each metric declares, how per-sample
// values and dataset values come out of it, registration from outside (a test-only metric), the
// config / studio / README lists derived from or checked against it, and the AAQ work savings
// switched off — visibly — for a metric that promises no per-sample bounds, on the real ONNX backend.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { metricOptions } from '../../src/app/configure/params';
import { runAccuracyAware } from '../../src/core/algorithms/accuracy-aware';
import { isLabelFree } from '../../src/core/algorithms/drop';
import { defaultAaqParams } from '../../src/core/config/defaults';
import { parsePotConfig } from '../../src/core/config/parse';
import { OnnxQuantizationBackend } from '../../src/core/evaluation/onnx-backend';
import { accuracyTopK } from '../../src/core/metrics/accuracy-topk';
import { agreementTop1 } from '../../src/core/metrics/agreement-top1';
import {
  checkMetricsLabels,
  defineMetric,
  isMetricName,
  labelFreeMetricNames,
  METRIC_NAMES,
  MetricTally,
  metricDef,
  metricDefinition,
  metricDefinitions,
  metricsDocLine,
  metricsNeedingLabels,
  perSampleMetric,
  registerMetric,
  savingsBounds,
  savingsWarnings,
  type MetricDefinition,
  type SampleOutput,
} from '../../src/core/metrics';
import { normalizeModel } from '../../src/core/onnx/normalize';
import { QuantizeError, type Dataset } from '../../src/core/types';
import { createNodeEngine } from '../../src/node/engines';
import { buildModel, weights } from './helpers/build-model';

const cleanup: (() => void)[] = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});
/** Registers a metric for one test. */
function register(def: MetricDefinition): void {
  cleanup.push(registerMetric(def));
}

const out = (scores: number[], dims = [1, scores.length]): SampleOutput => ({ data: Float32Array.from(scores), dims, name: 'y' });

/** An unlabelled-friendly metric like agreement@top1 that promises no per-sample bounds. */
const unbounded = (): MetricDefinition => ({ ...agreementTop1, name: 'test@agreement-unbounded', bounds: null });

/** Top-1 hits weighted by 1 + label: the dataset value is a ratio of sums, not a mean. */
const weighted = () =>
  defineMetric<undefined, { hit: number; w: number }>({
    name: 'test@weighted-top1',
    direction: 'higher-better',
    needsLabels: true,
    needsFp32Reference: false,
    help: 'top-1 hits weighted by 1 + label',
    sample: ({ output, label }) => ({ hit: accuracyTopK(1).sample({ output, label, reference: undefined }), w: 1 + label }),
    value: (s) => s.hit,
    reduce: (stats) => stats.reduce((a, s) => a + s.hit * s.w, 0) / stats.reduce((a, s) => a + s.w, 0),
    bounds: [0, 1],
  });

describe('the registered metrics', () => {
  it('declare name, direction, labels, FP32 reference, reduction and bounds', () => {
    expect(METRIC_NAMES).toEqual(['accuracy@top1', 'accuracy@top5', 'agreement@top1']);
    expect(metricDefinitions().map((d) => d.name)).toEqual(METRIC_NAMES);
    const shape = (n: string) => {
      const d = metricDefinition(n);
      return [d.direction, d.needsLabels, d.needsFp32Reference, d.reduce, d.bounds, d.accuracyChecker ?? null];
    };
    expect(shape('accuracy@top1')).toEqual(['higher-better', true, false, 'mean', [0, 1], { type: 'accuracy', top_k: 1 }]);
    expect(shape('accuracy@top5')).toEqual(['higher-better', true, false, 'mean', [0, 1], { type: 'accuracy', top_k: 5 }]);
    expect(shape('agreement@top1')).toEqual(['higher-better', false, true, 'mean', [0, 1], null]);
    expect(metricDef('agreement@top1')).toEqual({ name: 'agreement@top1', direction: 'higher-better', needsLabels: false });
    expect(() => metricDefinition('mIoU')).toThrow(/metrics: unknown metric 'mIoU' \(expected accuracy@top1, accuracy@top5, agreement@top1\)/);
    expect(labelFreeMetricNames()).toEqual(['agreement@top1']);
    expect(savingsBounds('accuracy@top5')).toEqual([0, 1]);
  });

  it('compute one sample from its output, label and FP32 reference', () => {
    const t1 = metricDefinition('accuracy@top1');
    const t5 = metricDefinition('accuracy@top5');
    const ag = metricDefinition('agreement@top1');
    const s = [0.1, 0.9, 0.3, 0.2, 0.0, -1]; // order 1,2,3,0,4,5
    expect(t1.sample({ output: out(s), label: 1, reference: undefined })).toBe(1);
    expect(t1.sample({ output: out(s, [1, 6, 1, 1]), label: 2, reference: undefined })).toBe(0);
    expect(t5.sample({ output: out(s), label: 4, reference: undefined })).toBe(1);
    expect(t5.sample({ output: out(s), label: 5, reference: undefined })).toBe(0);
    expect(ag.reference!.of(out(s))).toBe(1);
    expect(ag.sample({ output: out(s), label: -1, reference: 1 })).toBe(1);
    expect(ag.sample({ output: out(s), label: -1, reference: 2 })).toBe(0);
    expect(() => t1.sample({ output: out(s), label: 6, reference: undefined })).toThrow(/label 6 is out of range for a model output of 6 classes/);
    expect(() => t1.sample({ output: out(s, [1, 3, 2]), label: 0, reference: undefined })).toThrow(/output 'y' has shape \[1, 3, 2\]/);
  });

  it('tally per-sample values into the dataset value, refusing what a metric needs but lacks', () => {
    const t = new MetricTally(metricDefinition('accuracy@top1'));
    expect([t.add(out([0, 1]), 1), t.add(out([1, 0]), 1), t.add(out([0, 1]), 1), t.add(out([0, 1]), 1)]).toEqual([1, 0, 1, 1]);
    expect(t.values).toEqual([1, 0, 1, 1]);
    expect(t.result()).toBe(0.75);
    expect(new MetricTally(metricDefinition('accuracy@top1')).result()).toBeNaN();
    expect(() => t.add(out([0, 1]), -1)).toThrow(/accuracy@top1 needs labels but the dataset has none \(expected a labels file, class subfolders, or the metric agreement@top1\)/);
    expect(() => new MetricTally(metricDefinition('agreement@top1')).add(out([0, 1]), -1)).toThrow(/agreement@top1 needs the FP32 model's top-1 predictions/);
  });
});

describe('registering a metric', () => {
  it('a top-k metric is one factory call: evaluation and config follow', () => {
    const cfg = (metrics: unknown) =>
      JSON.stringify({
        model: { model: 'm.onnx' },
        engine: { dataset: { data_source: 'd/' }, metrics },
        compression: { algorithms: [{ name: 'DefaultQuantization' }] },
      });
    expect(() => parsePotConfig(cfg([{ type: 'accuracy', top_k: 3 }]), 'c.json')).toThrow(/top_k 3 is not supported .*\(expected top_k 1 or 5\)/);
    register(accuracyTopK(3));
    expect(isMetricName('accuracy@top3')).toBe(true);
    expect(METRIC_NAMES).toEqual(['accuracy@top1', 'accuracy@top5', 'agreement@top1', 'accuracy@top3']);
    // label 3 is third of 1,2,3,0,… → in the top 3 only
    const logits = Float32Array.from([0.1, 0.9, 0.3, 0.2, 0.0, -1]);
    expect(perSampleMetric('accuracy@top3', logits, 6, [3])).toEqual([1]);
    expect(perSampleMetric('accuracy@top3', logits, 6, [0])).toEqual([0]);
    expect(parsePotConfig(cfg([{ type: 'accuracy', top_k: 3 }]), 'c.json').config.engine.metrics).toEqual([{ name: 'accuracy@top3', type: 'accuracy@top3' }]);
    expect(parsePotConfig(cfg([{ name: 'accuracy@top3', top_k: 3 }]), 'c.json').config.engine.metrics).toEqual([{ name: 'accuracy@top3' }]);
    expect(() => parsePotConfig(cfg([{ name: 'mAP' }]), 'c.json')).toThrow(
      /one of accuracy@top1, accuracy@top5, agreement@top1, accuracy@top3 \(or \{"type": "accuracy", "top_k": 1 \| 5 \| 3\}\)/,
    );
    expect(metricOptions().map((o) => o.name)).toContain('accuracy@top3');
  });

  it('registration is checked and can be undone', () => {
    expect(() => registerMetric(accuracyTopK(1))).toThrow(/"accuracy@top1" is already registered/);
    expect(() => registerMetric({ ...unbounded(), reference: undefined })).toThrow(/needsFp32Reference and reference must come together/);
    expect(() => registerMetric({ ...unbounded(), bounds: [1, 0] })).toThrow(/bounds must be finite/);
    expect(() => registerMetric({ ...accuracyTopK(5), name: 'top5-again' })).toThrow(/already \{"type":"accuracy","top_k":5\}/);
    const undo = registerMetric(unbounded());
    expect(isMetricName('test@agreement-unbounded')).toBe(true);
    undo();
    expect(isMetricName('test@agreement-unbounded')).toBe(false);
    expect(METRIC_NAMES).toEqual(['accuracy@top1', 'accuracy@top5', 'agreement@top1']);
  });

  it('a non-mean reduction gives the ratio of sums, and no bounds for the savings', () => {
    register(weighted());
    const t = new MetricTally(metricDefinition('test@weighted-top1'));
    t.add(out([0, 1]), 1); // hit, weight 2
    t.add(out([1, 0]), 1); // miss, weight 2
    t.add(out([1, 0]), 0); // hit, weight 1
    expect(t.values).toEqual([1, 0, 1]);
    expect(t.result()).toBe(3 / 5); // not the mean 2/3
    expect(savingsBounds('test@weighted-top1')).toBeNull();
  });
});

describe('labels', () => {
  it('one check of "the data has no labels", for every run', () => {
    expect(metricsNeedingLabels(['agreement@top1', 'accuracy@top5', 'accuracy@top1'])).toEqual(['accuracy@top5', 'accuracy@top1']);
    expect(() => checkMetricsLabels(['agreement@top1'], false)).not.toThrow();
    expect(() => checkMetricsLabels(['accuracy@top1'], true)).not.toThrow();
    let err: unknown;
    try {
      checkMetricsLabels(['agreement@top1', 'accuracy@top5'], false, { file: 'c.json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QuantizeError);
    expect((err as QuantizeError).message).toBe(
      'c.json: engine.metrics: the data has no labels, but the metric accuracy@top5 needs them (expected labels (class subfolders or a labels file), or the metric agreement@top1)',
    );
    expect(() => checkMetricsLabels(['mAP'], false)).toThrow(/unknown metric 'mAP'/);
  });

  it('label-free runs are those whose metrics all compare with FP32 without labels', () => {
    register(unbounded());
    const spec = (name: string) => ({ name, direction: 'higher-better' as const });
    expect(isLabelFree([spec('agreement@top1'), spec('test@agreement-unbounded')])).toBe(true);
    expect(isLabelFree([spec('agreement@top1'), spec('accuracy@top1')])).toBe(false);
    expect(isLabelFree([spec('not-registered')])).toBe(false);
  });
});

describe('lists derived from the registry', () => {
  it("README's metric list is the registry's", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const line = readme.split('\n').find((l) => /"metrics": \[.*\/\//.test(l));
    expect(line, 'the config example\'s "metrics" line with its // list').toBeDefined();
    const listed = line!.slice(line!.indexOf('//') + 2).trim();
    const names = listed.split('|').map((s) => s.trim().replace(/\s*\(.*\)$/, ''));
    expect(names).toEqual([...METRIC_NAMES]);
    expect(listed).toBe(metricsDocLine());
    expect(metricsDocLine()).toBe('accuracy@top1 | accuracy@top5 | agreement@top1 (no labels)');
  });

  it("the studio's metric options are the registry's", () => {
    expect(metricOptions()).toEqual([
      { name: 'accuracy@top1', help: metricDefinition('accuracy@top1').help },
      { name: 'accuracy@top5', help: metricDefinition('accuracy@top5').help },
      { name: 'agreement@top1', help: metricDefinition('agreement@top1').help, note: "agreement@top1 needs no labels: it compares with the FP32 model's answers." },
    ]);
  });
});

describe('AAQ savings and metric bounds', () => {
  it('savingsWarnings names the metric and the savings it turns off', () => {
    register(unbounded());
    register(weighted());
    const on = defaultAaqParams();
    expect(savingsWarnings(['accuracy@top1', 'agreement@top1'], on)).toEqual([]);
    expect(savingsWarnings(['accuracy@top1', 'test@agreement-unbounded', 'test@weighted-top1'], on)).toEqual([
      "metric test@agreement-unbounded promises no bounds for its per-sample values: reuse_evaluations, early_stop and lazy_ranking are off for this run (POT's evaluation schedule: the same decisions, more evaluation work)",
      "metric test@weighted-top1 is not the mean of its per-sample values: reuse_evaluations, early_stop and lazy_ranking are off for this run (POT's evaluation schedule: the same decisions, more evaluation work)",
    ]);
    expect(savingsWarnings(['test@agreement-unbounded'], { ...on, reuse_evaluations: false, lazy_ranking: false })).toEqual([
      "metric test@agreement-unbounded promises no bounds for its per-sample values: early_stop is off for this run (POT's evaluation schedule: the same decisions, more evaluation work)",
    ]);
    expect(savingsWarnings(['test@agreement-unbounded'], { reuse_evaluations: false, early_stop: false, lazy_ranking: false })).toEqual([]);
    expect(savingsWarnings(['test@agreement-unbounded'], {})).toEqual([]); // DefaultQuantization params
  });

  // A 3-layer MLP on 96 random samples: at maximal_drop 0 its INT8 version disagrees with FP32
  // on a few samples, so AAQ ranks and reverts groups (the savings have work to skip).
  const H = 16;
  const N = 96;
  const model = normalizeModel(
    buildModel({
      inputs: { x: [1, 8] },
      outputs: { y: [1, 5] },
      initializers: { w1: [8, H], b1: [H], w2: [H, H], b2: [H], w3: [H, 5], b3: [5] },
      nodes: [
        { op: 'Gemm', name: 'fc1', inputs: ['x', 'w1', 'b1'], outputs: ['h1'] },
        { op: 'Relu', name: 'r1', inputs: ['h1'], outputs: ['a1'] },
        { op: 'Gemm', name: 'fc2', inputs: ['a1', 'w2', 'b2'], outputs: ['h2'] },
        { op: 'Relu', name: 'r2', inputs: ['h2'], outputs: ['a2'] },
        { op: 'Gemm', name: 'fc3', inputs: ['a2', 'w3', 'b3'], outputs: ['y'] },
      ],
    }),
  ).model;
  const xs = weights(N * 8, 7).map((v) => v * 8);
  const dataset: Dataset = {
    size: N,
    sampleShape: [8],
    hasLabels: true,
    fingerprint: async () => 'mlp-96',
    get: async (i) => ({ input: xs.slice(i * 8, i * 8 + 8), label: i % 5 }),
  };
  const OFF = { reuse_evaluations: false, early_stop: false, lazy_ranking: false };

  async function aaq(metric: string, savings: boolean) {
    const engine = await createNodeEngine('native');
    const backend = new OnnxQuantizationBackend({ engine, model, dataset, metrics: [metric], placementParams: defaultAaqParams() });
    try {
      const params = { ...defaultAaqParams(), maximal_drop: 0, ...(savings ? {} : OFF) };
      const r = await runAccuracyAware(backend, params);
      return { r, inferences: backend.counts().inferences, bounds: backend.perSampleBounds(metric), warnings: savingsWarnings([metric], params) };
    } finally {
      await backend.dispose();
      await engine.dispose();
    }
  }

  it('a metric registered without bounds runs POT schedule on the ONNX backend, with a warning', async () => {
    register(unbounded());
    // The bounded twin (agreement@top1 itself): the savings skip work here.
    const boundedOn = await aaq('agreement@top1', true);
    const boundedOff = await aaq('agreement@top1', false);
    expect(boundedOn.bounds).toEqual([0, 1]);
    expect(boundedOn.warnings).toEqual([]);
    expect(boundedOn.r.reverted.length).toBeGreaterThan(0);
    const saved = boundedOn.r.savings.reuse_evaluations + boundedOn.r.savings.early_stop + boundedOn.r.savings.lazy_ranking;
    expect(saved).toBeGreaterThan(0);
    expect(boundedOn.inferences).toBeLessThan(boundedOff.inferences);

    // The same metric without bounds: savings asked for (the defaults) but not applied.
    const on = await aaq('test@agreement-unbounded', true);
    const off = await aaq('test@agreement-unbounded', false);
    expect(on.bounds).toBeNull();
    expect(on.warnings).toHaveLength(1);
    expect(on.warnings[0]).toMatch(/^metric test@agreement-unbounded promises no bounds .*: reuse_evaluations, early_stop and lazy_ranking are off for this run/);
    expect(on.r.savings).toEqual({ reuse_evaluations: 0, early_stop: 0, lazy_ranking: 0 });
    expect(on.inferences).toBe(off.inferences);
    expect(on.inferences).toBe(boundedOff.inferences);
    // Same decisions and values as its bounded twin.
    expect(on.r.reverted).toEqual(boundedOn.r.reverted);
    expect(on.r.final['test@agreement-unbounded']).toBe(boundedOn.r.final['agreement@top1']);
  });

  it('the ONNX backend evaluates through the registry, non-mean reductions included', async () => {
    register(weighted());
    const engine = await createNodeEngine('native');
    const metrics = ['accuracy@top1', 'test@weighted-top1', 'agreement@top1'];
    const backend = new OnnxQuantizationBackend({ engine, model, dataset, metrics, placementParams: defaultAaqParams() });
    try {
      expect(backend.metricDefs().map((d) => d.name)).toEqual(metrics);
      expect(backend.perSampleBounds('accuracy@top1')).toEqual([0, 1]);
      expect(backend.perSampleBounds('test@weighted-top1')).toBeNull();
      expect(backend.perSampleBounds('accuracy@top5')).toBeNull(); // not one of this run's metrics
      const idx = [0, 3, 7, 10, 11, 20, 41, 95];
      const ev = await backend.evaluate(null, idx);
      const pred = await backend.predictions(null, idx);
      const labels = idx.map((i) => i % 5);
      const hits = idx.map((_, k) => (pred[k] === labels[k] ? 1 : 0));
      expect(ev.indices).toEqual(idx);
      expect(ev.perSample['accuracy@top1']).toEqual(hits);
      expect(ev.perSample['test@weighted-top1']).toEqual(hits);
      expect(ev.perSample['agreement@top1']).toEqual(idx.map(() => 1));
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      expect(ev.metrics['accuracy@top1']).toBe(sum(hits) / idx.length);
      expect(ev.metrics['test@weighted-top1']).toBe(sum(hits.map((h, k) => h * (1 + labels[k]))) / sum(labels.map((l) => 1 + l)));
      expect(ev.metrics['agreement@top1']).toBe(1);
    } finally {
      await backend.dispose();
      await engine.dispose();
    }
  });
});
