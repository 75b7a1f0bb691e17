// Child process of fuzz.test.ts: runs the fast-check properties for the model reader and the
// config parser and prints one `FUZZ-SUMMARY {json}` line. A separate process, so that a case that
// hangs (synchronous code never yields) is bounded by the parent's kill, and so that memory is
// measured (and capped with --max-old-space-size) for the fuzzing alone.
// Usage: node --import tsx tests/hardening/fuzz-runner.ts [seed] [scale]
import fc from 'fast-check';
import { QuantizeError } from '../../src/core/types';
import { applyByteEdits, applyStructEdits, byteEdits, loadModels, readModelOnce, structEdit } from './fuzz-models';
import { applyTextEdits, applyTreeEdits, baseObjects, baseTexts, extremeTexts, parseOnce, textEdits, treeEdits } from './fuzz-configs';

const seed = Number(process.argv[2] ?? 20_260_601);
const scale = Number(process.argv[3] ?? 1);

export interface PropertyStats {
  name: string;
  cases: number;
  accepted: number;
  refused: number;
  skipped: number;
  maxMs: number;
  seconds: number;
  /** One refusal message, as a sample. */
  sample?: string;
  failure?: string;
}

const stats: PropertyStats[] = [];
let lastBeat = 0;

/** Runs `check(input)` for `runs` generated inputs; a throw other than QuantizeError fails it. */
function run<T, U = T>(name: string, arb: fc.Arbitrary<T>, runs: number, check: (x: U) => void, prepare?: (x: T) => U): void {
  const s: PropertyStats = { name, cases: 0, accepted: 0, refused: 0, skipped: 0, maxMs: 0, seconds: 0 };
  const start = performance.now();
  stats.push(s);
  const r = fc.check(
    fc.property(arb, (x) => {
      let input = x as unknown as U;
      if (prepare) {
        try {
          input = prepare(x);
        } catch (e) {
          s.skipped++; // the mutation itself could not be encoded: not a reader case
          if (s.skipped === 1) s.sample = `skipped: ${(e as Error).message}`;
          return true;
        }
      }
      s.cases++;
      const t0 = performance.now();
      try {
        check(input);
        s.accepted++;
      } catch (e) {
        if (!(e instanceof QuantizeError)) throw e;
        s.refused++;
        if (s.refused === Math.ceil(runs / 2)) s.sample = e.message.slice(0, 200);
      } finally {
        s.maxMs = Math.max(s.maxMs, performance.now() - t0);
        if (Date.now() - lastBeat > 2000) {
          lastBeat = Date.now();
          process.stderr.write(`[fuzz] ${name}: ${s.cases} cases\n`);
        }
      }
      return true;
    }),
    { numRuns: Math.max(1, Math.round(runs * scale)), seed, endOnFailure: false },
  );
  s.seconds = Math.round(performance.now() - start) / 1000;
  if (r.failed) {
    const err = r.errorInstance as Error | undefined;
    s.failure = `${err?.name}: ${err?.message} (seed ${r.seed}, path ${r.counterexamplePath}) input ${fc.stringify(r.counterexample).slice(0, 600)}\n${err?.stack?.split('\n').slice(1, 6).join('\n')}`;
  }
}

const { full, skeletons } = loadModels();
const modelIdx = (n: number) => fc.integer({ min: 0, max: n - 1 });
// the OCR skeleton (250 Constants, 35 BatchNorms) costs ~10× the others: drawn 1 time in 10
const skeletonIdx = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constant(3) });

// Model reader
run(
  'model: byte edits of skeleton models',
  fc.tuple(skeletonIdx, byteEdits),
  2500,
  (b: Uint8Array) => readModelOnce(b),
  ([m, e]) => applyByteEdits(skeletons[m], e),
);
run(
  'model: structure edits of skeleton models',
  fc.tuple(skeletonIdx, fc.array(structEdit, { minLength: 1, maxLength: 5 })),
  2500,
  (b: Uint8Array) => readModelOnce(b),
  ([m, e]) => applyStructEdits(skeletons[m], e),
);
run(
  'model: truncated full models',
  fc.tuple(modelIdx(full.length), fc.double({ min: 0, max: 1, noNaN: true })),
  120,
  (b: Uint8Array) => readModelOnce(b),
  ([m, f]) => full[m].subarray(0, Math.floor(full[m].length * f)),
);
run(
  'model: byte edits of full models',
  fc.tuple(modelIdx(full.length - 1), byteEdits),
  80,
  (b: Uint8Array) => readModelOnce(b),
  ([m, e]) => applyByteEdits(full[m], e),
);
run('model: random bytes', fc.uint8Array({ maxLength: 4096 }), 500, (b: Uint8Array) => readModelOnce(b));

// Config parser
const texts = baseTexts();
const objects = baseObjects();
run('config: random JSON values', fc.jsonValue(), 1000, (v: unknown) => parseOnce({ value: v, text: JSON.stringify(v) ?? 'null' }));
run(
  'config: subtree edits of valid configs',
  fc.tuple(fc.integer({ min: 0, max: objects.length - 1 }), treeEdits),
  2000,
  (v: { value: unknown; text: string }) => parseOnce(v),
  ([i, e]) => {
    const value = applyTreeEdits(structuredClone(objects[i]), e);
    return { value, text: JSON.stringify(value) ?? 'null' };
  },
);
run(
  'config: text edits of config files',
  fc.tuple(fc.integer({ min: 0, max: texts.length - 1 }), textEdits),
  2000,
  (t: string) => parseOnce({ text: t }),
  ([i, e]) => applyTextEdits(texts[i], e),
);
const extremes = extremeTexts();
run(
  'config: extreme texts',
  fc.integer({ min: 0, max: extremes.length - 1 }),
  extremes.length * 2,
  (t: string) => parseOnce({ text: t }),
  (i) => extremes[i],
);

const mem = process.memoryUsage();
const summary = {
  seed,
  scale,
  properties: stats,
  cases: stats.reduce((a, s) => a + s.cases, 0),
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  heapUsedMiB: Math.round(mem.heapUsed / 2 ** 20),
  arrayBuffersMiB: Math.round(mem.arrayBuffers / 2 ** 20),
};
process.stdout.write(`FUZZ-SUMMARY ${JSON.stringify(summary)}\n`);
