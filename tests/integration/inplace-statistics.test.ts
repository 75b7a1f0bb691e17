// Issue 11: statistics reduced inside the graph give the ranges the JS collector gives. On every
// zoo model, for the presets' estimators (performance, mixed, accuracy; default and quantile range
// estimator presets) and tune_hyperparams' activation guesses, the quantizers of the state
// quantized from in-graph statistics equal those from the JS path (scale, zero point, low, high)
// bit for bit; FastBiasCorrection's biases (from float64 means summed in another order) are
// counted bit for bit or by float32 ulps.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { QuantState } from '../../src/core/algorithms/backend';
import { applyGuess, gridSpaces } from '../../src/core/algorithms/tuning';
import type { DefaultQuantizationParams } from '../../src/core/config/types';
import { Evaluator } from '../../src/core/engine/runner';
import { OnnxQuantizer, type OnnxQuantizerContext } from '../../src/core/quant/onnx-quantizer';
import { prepareRun } from '../../src/node/run-setup';

const BENCH = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../bench/configs');

const bits = new Float32Array(1);
const bitsU = new Int32Array(bits.buffer);
/** Distance in float32 ulps (0: the same bits). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  bits[0] = a;
  const ia = bitsU[0];
  bits[0] = b;
  const ib = bitsU[0];
  const key = (i: number) => (i < 0 ? -(i & 0x7fffffff) : i);
  return Math.abs(key(ia) - key(ib)) || 1; // ±0 count as one apart
}

/** A quantizer on the run's model, data and engine, batches of 16, with `opts`. */
function quantizerOf(setup: Awaited<ReturnType<typeof prepareRun>>, opts: Pick<OnnxQuantizerContext, 'tuningStats' | 'statistics' | 'statisticsBytes'>): OnnxQuantizer {
  const { backend: b, engine } = setup;
  return new OnnxQuantizer({
    engine,
    model: b.opts.model,
    dataset: b.opts.dataset,
    idx: b.idx,
    placement: b.placement,
    finder: b.finder,
    evaluator: new Evaluator(engine),
    inputName: b.inputName,
    outputName: b.outputName,
    batchSize: 16,
    ...opts,
    time: (_phase, p) => p,
    timings: {},
  });
}

function paramSets(base: DefaultQuantizationParams): { name: string; params: DefaultQuantizationParams }[] {
  const out: { name: string; params: DefaultQuantizationParams }[] = [];
  const guesses = gridSpaces()[0].filter((g) => g.some((p) => p.ns === 'activations'));
  for (const preset of ['performance', 'mixed', 'accuracy'] as const) {
    const p = { ...base, preset };
    out.push({ name: preset, params: p });
    out.push({ name: `${preset}/quantile`, params: { ...p, range_estimator: { preset: 'quantile' } } });
    guesses.forEach((g, i) => out.push({ name: `${preset}/tuning guess ${i + 1}`, params: applyGuess(p, g) }));
  }
  return out;
}

describe('statistics reduced in the graph give the ranges of the JS path', () => {
  for (const [name, engineKind] of [
    ['fmnist-cnn', 'native'],
    ['fmnist-mobilenet', 'native'],
    ['fmnist-resnet', 'native'],
    ['ppocr-cls', 'native'],
    ['fmnist-mobilenet', 'wasm'],
    ['ppocr-cls', 'wasm'],
  ] as const) {
    it(`${name} on ${engineKind}: every quantizer bit for bit`, async () => {
      const setup = await prepareRun({ config: join(BENCH, `${name}.json`), engine: engineKind });
      const { backend: b, engine } = setup;
      try {
        const quantizer = (statistics: 'in-graph' | 'js') => quantizerOf(setup, { tuningStats: true, statistics });
        const inGraph = quantizer('in-graph');
        const js = quantizer('js');
        let values = 0;
        let quantizers = 0;
        const biasUlps = new Map<number, number>();
        const sets = paramSets(setup.algorithm.params as DefaultQuantizationParams);
        for (const { name: what, params } of sets) {
          const a: QuantState = await inGraph.quantize(params);
          const r: QuantState = await js.quantize(params);
          expect(Object.keys(a.quantizers).sort(), what).toEqual(Object.keys(r.quantizers).sort());
          for (const [id, qr] of Object.entries(r.quantizers)) {
            const qa = a.quantizers[id];
            expect([qa.qmin, qa.qmax, qa.dtype], `${what} ${id}`).toEqual([qr.qmin, qr.qmax, qr.dtype]);
            for (const f of ['scale', 'zeroPoint', 'low', 'high'] as const) {
              expect(qa[f].length, `${what} ${id} ${f}`).toBe(qr[f].length);
              qr[f].forEach((v, i) => expect(Object.is(qa[f][i], v), `${what} ${id} ${f}[${i}]: ${qa[f][i]} vs ${v}`).toBe(true));
              values += qr[f].length;
            }
            quantizers++;
          }
          expect(Object.keys(a.biases).sort(), what).toEqual(Object.keys(r.biases).sort());
          for (const [node, br] of Object.entries(r.biases)) {
            br.forEach((v, i) => {
              const d = ulps(a.biases[node][i], v);
              biasUlps.set(d, (biasUlps.get(d) ?? 0) + 1);
            });
          }
        }
        // the in-graph quantizer reduced everything in the graph, in one pass per new statistic set
        expect(inGraph.statisticsLog.js).toBe(0);
        expect(inGraph.statisticsLog.redone).toEqual([]);
        expect(inGraph.statisticsLog.inGraph).toBe(js.statisticsLog.js);
        const hist = [...biasUlps].sort((x, y) => x[0] - y[0]);
        console.log(
          `${name} (${engineKind}): ${sets.length} parameter sets, ${quantizers} quantizers, ${values} scale/zero-point/low/high values bit for bit; ` +
            `biases by float32 ulps from the JS path: ${hist.map(([d, n]) => `${d}: ${n}`).join(', ') || 'none corrected'}`,
        );
        expect(values).toBeGreaterThan(0);
        // a bias differs at most by a float32 rounding of its float64 means
        for (const [d] of hist) expect(d).toBeLessThanOrEqual(1);
      } finally {
        await b.dispose();
        await engine.dispose();
      }
    }, 600_000);
  }
});

describe('a statistics batch bounded by memory gives the same statistics', () => {
  for (const name of ['fmnist-resnet', 'ppocr-cls'] as const) {
    it(`${name}: batches of 1 and of 5 equal batches of 16, every quantizer and bias bit for bit`, async () => {
      const setup = await prepareRun({ config: join(BENCH, `${name}.json`), engine: 'native' });
      const { backend: b, engine } = setup;
      try {
        const quantizer = (statisticsBytes: number | undefined) => quantizerOf(setup, { tuningStats: false, statisticsBytes });
        const params = setup.algorithm.params as DefaultQuantizationParams;
        const whole = quantizer(undefined);
        const ref = await whole.quantize(params);
        expect(whole.statisticsLog.batch).toBeUndefined();
        // a budget of one byte: one sample a batch; then one of five samples' worth
        const one = quantizer(1);
        const states = [await one.quantize(params)];
        expect(one.statisticsLog.batch).toBe(1);
        const perSample = one.statisticsLog.sampleBytes!;
        expect(perSample).toBeGreaterThan(0);
        const five = quantizer(perSample * 5 + 1);
        states.push(await five.quantize(params));
        expect(five.statisticsLog.batch).toBe(5);
        for (const s of states) {
          expect(Object.keys(s.quantizers).sort()).toEqual(Object.keys(ref.quantizers).sort());
          for (const [id, q] of Object.entries(ref.quantizers))
            for (const f of ['scale', 'zeroPoint', 'low', 'high'] as const) q[f].forEach((v, i) => expect(Object.is(s.quantizers[id][f][i], v), `${id} ${f}[${i}]`).toBe(true));
          expect(Object.keys(s.biases).sort()).toEqual(Object.keys(ref.biases).sort());
          for (const [node, br] of Object.entries(ref.biases)) br.forEach((v, i) => expect(Object.is(s.biases[node][i], v), `${node} bias[${i}]`).toBe(true));
        }
      } finally {
        await b.dispose();
        await engine.dispose();
      }
    }, 600_000);
  }
});
