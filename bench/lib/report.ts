// bench/results.json (with its summary fields) and bench/results.md.
import type { RunReport } from '../../src/core/report';
import type { EvalMode } from '../../src/core/evaluation/eval-mode';
import { CPU_ENGINE } from '../../src/core/engine/traits';
import type { ChromiumResult } from '../browser/chromium';
import type { MachineInfo } from './machine';
import type { MeasureResult } from './measure';
import { potSchedule } from './schedule';
import type { OpProfile } from './profile';
import type { RealRun, RealSizeResults } from './real-size';
import { deploymentMarkdown, type DeploymentResults } from './deployment';

export interface AaqRun {
  tag: string;
  wallMs: number;
  maxRssKB: number;
  fp32PassMs: number;
  report: RunReport;
  deploy: { fp32Bytes: number; qdqBytes: number; fp32LatencyMs: number; qdqLatencyMs: number; fp32Batch16Ms: number; qdqBatch16Ms: number } | null;
}
type Failed = { error: string };

export interface BenchResults {
  date: string;
  wallSeconds: number;
  machine: MachineInfo;
  settings: { samples: number; batch: number; reps: number };
  /** Node back ends: native (onnxruntime-node), wasm-node (onnxruntime-web WASM, 1 thread). */
  engines: Record<string, Record<string, MeasureResult>>;
  chromium: ChromiumResult | Failed | null;
  /** FP32 per-operator profile of the CNN on onnxruntime-node (Chromium's is in `chromium.profile`). */
  nativeProfile?: { model: string; runs: number; trace: OpProfile };
  /** default: the config's run (savings on); pot: the same with every saving off; atDefaultDrop:
   *  the default run at POT's default maximal_drop, where the config sets a stricter one. */
  aaq: Record<string, { default: AaqRun | Failed; pot?: AaqRun | Failed; atDefaultDrop?: AaqRun | Failed }>;
  /** The zoo model that needs the most reverting (most groups reverted at POT's default
   *  maximal_drop; ties: the larger share of its groups), and its default run's inferences ÷ POT's. */
  most_reverting?: { model: string; maximal_drop: number; reverted: number; groups: number; inferences: number; pot_schedule: number; ratio: number } | null;
  /** Per model and back end: candidate cost ÷ FP32 pass − 1 per mode (a candidate run whole), the
   *  faster mode, the mode AAQ uses there ('auto': the engine's defaultMode), what 'calibrate'
   *  picked, `ranking_prefix_cache` — a ranking candidate's cost in AAQ's default (that mode with
   *  prefix_cache on, suffix sessions' creation amortised) — and `value`: what AAQ pays per
   *  ranking candidate by default (ranking_prefix_cache when measured, else the mode's). */
  candidate_overhead?: Record<
    string,
    Record<string, Record<EvalMode, number> & { faster: EvalMode; aaq_mode: EvalMode; calibrate_mode: EvalMode | null; ranking_prefix_cache: number | null; value: number }>
  >;
  /** Chromium WASM (threads) FP32 samples/s ÷ onnxruntime-node FP32 samples/s, per model (passes
   *  alternating between the two, median of per-round ratios; default session options both). */
  wasm_threads_vs_native?: Record<string, number>;
  /** ImageNet-sized models on 224×224 JPEGs (bench/lib/real-size.ts). */
  real_size?: RealSizeResults;
  /** The deployment section (bench/lib/deployment.ts). */
  deployment?: DeploymentResults;
}

const ok = <T extends object>(x: T | Failed | null | undefined): x is T => !!x && !('error' in x);
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const MODE: Record<EvalMode, string> = { switchable: 'switchable', 'session-per-config': 'per-config' };

/** All back ends' measurements of the models: native, wasm-node, chromium-wasm-threads. */
export function backEnds(r: BenchResults): Record<string, Record<string, MeasureResult>> {
  const out: Record<string, Record<string, MeasureResult>> = { ...r.engines };
  if (ok(r.chromium)) {
    out['chromium-wasm-threads'] = {};
    for (const [m, x] of Object.entries(r.chromium.results)) if (ok(x)) out['chromium-wasm-threads'][m] = x;
  }
  return out;
}

/** The mode AAQ's default ('auto') uses on a bench back end. */
export function aaqModeOf(backEnd: string): EvalMode {
  void backEnd; // every bench back end is a CPU engine
  return CPU_ENGINE.defaultMode;
}

export function summarize(r: BenchResults): BenchResults {
  const co: NonNullable<BenchResults['candidate_overhead']> = {};
  for (const [be, models] of Object.entries(backEnds(r))) {
    for (const [m, x] of Object.entries(models)) {
      const aaqMode = aaqModeOf(be);
      // prefix_cache in use there (a ranking of ≥ 8 candidates filled the cache): its cost; else
      // AAQ's rankings run each candidate whole, as measured for the mode
      const pre = aaqMode === 'switchable' && x.prefix && x.prefix.skipped > 0 ? (x.ranking_candidate_overhead ?? null) : null;
      (co[m] ??= {})[be] = {
        ...x.candidate_overhead,
        faster: x.faster,
        aaq_mode: aaqMode,
        calibrate_mode: x.calibrated?.chosen ?? null,
        ranking_prefix_cache: pre,
        value: pre ?? x.candidate_overhead[aaqMode],
      };
    }
  }
  const ratio: Record<string, number> = {};
  if (ok(r.chromium)) for (const [m, x] of Object.entries(r.chromium.vsNative ?? {})) ratio[m] = x.ratio;
  return { ...r, candidate_overhead: co, wasm_threads_vs_native: ratio, most_reverting: mostReverting(r) };
}

/** Runs at POT's default maximal_drop per model (the config's own run when it already uses it). */
function atDefault(r: BenchResults, name: string): AaqRun | null {
  const a = r.aaq[name];
  const run = a.atDefaultDrop ?? a.default;
  return ok(run) ? run : null;
}

function mostReverting(r: BenchResults): BenchResults['most_reverting'] {
  let best: { name: string; run: AaqRun } | null = null;
  const key = (x: AaqRun) => [x.report.reverted.length, x.report.reverted.length / Math.max(1, x.report.groups_total ?? 1)];
  for (const name of Object.keys(r.aaq)) {
    const run = atDefault(r, name);
    if (!run) continue;
    const [k0, k1] = key(run);
    if (!best || k0 > key(best.run)[0] || (k0 === key(best.run)[0] && k1 > key(best.run)[1])) best = { name, run };
  }
  if (!best || !best.run.report.reverted.length) return null;
  const rep = best.run.report;
  const pot = potSchedule(rep).total;
  return {
    model: best.name,
    maximal_drop: (rep.params as { maximal_drop?: number }).maximal_drop ?? NaN,
    reverted: rep.reverted.length,
    groups: rep.groups_total ?? 0,
    inferences: rep.counts.inferences,
    pot_schedule: pot,
    ratio: rep.counts.inferences / pot,
  };
}

function decisionsSame(a: RunReport, b: RunReport): boolean {
  const key = (r: RunReport) => JSON.stringify([r.reverted, r.final.metrics, r.aaq?.status, r.aaq?.history.map((h) => [h.group, h.accepted, h.rolledBack, h.reranked])]);
  return key(a) === key(b);
}

export function markdown(input: BenchResults): string {
  const r = summarize(input);
  const L: string[] = [];
  const m = r.machine;
  L.push('# AAQ Studio bench', '');
  L.push(`Produced by \`npm run bench\` on ${r.date.slice(0, 10)} in ${r.wallSeconds.toFixed(0)} s. Machine: ${m.cpu}, ${m.nproc} cores (nproc), ${m.ramGiB} GiB RAM, ${m.os}.`);
  L.push(
    `Versions: ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  );
  L.push(
    `Every figure is the median of ${r.settings.reps} rounds (Node: 3 for PaddleOCR; Chromium: at least 15 for the small models; passes under 250 ms are timed twice per round and the faster kept); within a round all variants run back to back on the same ${r.settings.samples} samples (PaddleOCR: its 100 bench images, cycled) at batch ${r.settings.batch}, and ratios are taken within a round. The machine is shared: the 1-minute load average was ${m.load.start} at the start and ${m.load.end ?? '?'} at the end (2 cores), so absolute figures, and the Chromium ones most, move between runs.`,
    '',
  );

  const be = backEnds(r);
  const names = Object.keys(r.aaq);
  // ---- summary
  L.push('## Summary', '');
  L.push(
    '| model | FP32 native (samples/s) | FP32 Chromium WASM, threads (samples/s, × native) | candidate overhead, Chromium WASM threads (AAQ mode) | candidate overhead, native (AAQ mode) | AAQ sample inferences vs POT schedule | AAQ wall (FP32 passes) | QDQ vs FP32 latency, size |',
  );
  L.push('|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    const nat = be.native?.[name];
    const chr = be['chromium-wasm-threads']?.[name];
    const co = r.candidate_overhead?.[name];
    const run = r.aaq[name].default;
    const cell = (b: string) =>
      co?.[b] ? `${f(co[b].value)} (${MODE[co[b].aaq_mode]}${co[b].ranking_prefix_cache !== null ? ' + prefix cache' : ''}; run whole ${f(co[b][co[b].aaq_mode])})` : '—';
    let aaqCell = '—',
      wall = '—',
      dep = '—';
    if (ok(run)) {
      const pot = potSchedule(run.report).total;
      aaqCell = `${run.report.counts.inferences} / ${pot} (${f(run.report.counts.inferences / pot)})`;
      wall = `${f(run.wallMs / 1000, 1)} s (${f(run.wallMs / run.fp32PassMs, 1)})`;
      if (run.deploy) dep = `${f(run.deploy.qdqLatencyMs / run.deploy.fp32LatencyMs)}×, ${f(run.deploy.qdqBytes / run.deploy.fp32Bytes)}×`;
    }
    L.push(
      `| ${name} | ${nat ? f(nat.fp32.limitSps, 0) : '—'} | ${chr ? `${f(chr.fp32.limitSps, 0)} (${f(r.wasm_threads_vs_native?.[name] ?? NaN)})` : '—'} | ${cell('chromium-wasm-threads')} | ${cell('native')} | ${aaqCell} | ${wall} | ${dep} |`,
    );
  }
  L.push(
    '',
    "Candidate overhead = (cost of evaluating one ranking candidate on the samples, session creation included) ÷ (one FP32 pass over them with the engine's best options) − 1, as AAQ evaluates it by default: in the mode of the back end (`--mode auto`: the faster one per back end, recorded in src/core/algorithms/eval-mode.ts from these measurements) with prefix_cache on — one ranking over up to 16 of the model's groups, the first candidate run whole and its activations cached at the cut points, the others resumed from the deepest cut before their group, the suffix sessions' one-off creation amortised over all the model's groups. \"run whole\": the same candidate without the cache. AAQ inferences: the default run (all savings on) vs POT's schedule for the same decisions.",
    '',
  );

  // ---- throughput
  L.push('## Engine throughput (samples/s) and candidate cost', '');
  L.push(
    "| model | back end | FP32 | FP32, AAQ exact options | switchable, all on | per-config, all on | candidate: switchable (× FP32) | candidate: per-config (× FP32) | faster | AAQ uses (auto) | calibrate picks | ranking candidate, switchable + prefix cache (× FP32; suffix sessions' creation; share of the work skipped) |",
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    for (const [b, models] of Object.entries(be)) {
      const x = models[name];
      if (!x) continue;
      L.push(
        `| ${name} | ${b} | ${f(x.fp32.limitSps, 0)} | ${f(x.fp32.exactSps, 0)} | ${f(x.switchable.allOnSps, 0)} | ${f(x.perConfig.allOnSps, 0)} | ${f(x.switchable.candidateMs, 0)} ms (${f(x.switchable.ratio)}) | ${f(x.perConfig.candidateMs, 0)} ms (${f(x.perConfig.ratio)}) | ${MODE[x.faster]} | ${MODE[aaqModeOf(b)]}${aaqModeOf(b) === x.faster ? ' ✓' : ' ✗ (slower here)'} | ${x.calibrated ? `${MODE[x.calibrated.chosen]}${x.calibrated.identical ? '' : ' (outputs differed!)'}` : '—'} | ${x.prefix ? `${f(x.prefix.candidateMs, 0)} ms (${f(x.prefix.ratio)}; ${f(x.prefix.createMs, 0)} ms; ${f(x.prefix.skipped * 100, 0)} %)` : '—'} |`,
      );
    }
  }
  L.push(
    '',
    'back ends: native = onnxruntime-node (CPU EP); wasm-node = onnxruntime-web WASM in Node (1 thread); chromium-wasm-threads = onnxruntime-web/wasm in headless Chromium, cross-origin isolated, one thread per core. "AAQ exact options" = graph optimisation `extended` without pre-packing, which AAQ\'s FP32 and switchable sessions use so that "all quantizers off" is bit-exact FP32. per-config = a fake-quant model built, loaded and run per candidate (weights baked; identical outputs to the switchable session, bit for bit).',
  );
  L.push('', '### Mode per back end', '');
  L.push(
    '| back end | candidate run whole ÷ FP32: switchable (geometric mean over the models) | per-config | ranking candidate as AAQ runs it ÷ FP32: switchable (+ prefix cache where a ranking uses it) | per-config | faster | AAQ uses (`auto`) |',
  );
  L.push('|---|---|---|---|---|---|---|');
  for (const [b, models] of Object.entries(be)) {
    const xs = Object.values(models);
    if (!xs.length) continue;
    const gm = (v: (x: MeasureResult) => number) => Math.exp(xs.reduce((a, x) => a + Math.log(v(x)), 0) / xs.length);
    const sw = gm((x) => x.switchable.ratio);
    const pc = gm((x) => x.perConfig.ratio);
    const swRank = gm((x) => (x.prefix && x.prefix.skipped > 0 ? x.prefix.ratio : x.switchable.ratio));
    const faster: EvalMode = pc < swRank ? 'session-per-config' : 'switchable';
    L.push(
      `| ${b} | ${f(sw)} | ${f(pc)} | ${f(swRank)} | ${f(pc)} | ${MODE[faster]} | ${MODE[aaqModeOf(b)]} ${aaqModeOf(b) === faster ? '✓' : `✗ (${f(Math.abs(swRank / pc - 1) * 100, 0)} % apart)`} |`,
    );
  }
  L.push(
    '',
    'A session per configuration cannot resume from cached activations (the cache lives in the switchable graph\'s cut points), so in a ranking it pays every candidate whole; "faster" compares the two as AAQ would run its rankings.',
  );
  if (ok(r.chromium)) {
    const g = r.chromium.gpu;
    L.push(
      '',
      `WebGPU: ${g.real ? `measured on ${g.adapter}` : `absent — ${g.adapter ? `the only adapter is ${g.adapter}, a software ${g.fallback ? 'fallback ' : ''}renderer, not a real GPU` : 'no adapter'}`}. Chromium ${r.chromium.version}, ${r.chromium.page.numThreads} WASM threads, crossOriginIsolated ${r.chromium.page.crossOriginIsolated}.`,
    );
  } else if (r.chromium) L.push('', `Chromium: failed (${r.chromium.error}).`);
  L.push('');

  // ---- where the time goes
  const prof = (key: string) => {
    const x = ok(r.chromium) ? r.chromium.profiles?.[key] : undefined;
    return x && ok(x) ? x.trace : null;
  };
  const opTable = (cols: [string, OpProfile][]) => {
    L.push(`| operator | ${cols.map(([c]) => c).join(' | ')} |`);
    L.push(`|---|${cols.map(() => '---').join('|')}|`);
    const maps = cols.map(([, p]) => new Map(p.ops));
    const ops = [...new Set(cols.flatMap(([, p]) => p.ops.map(([o]) => o)))];
    ops.sort((x, y) => Math.max(...maps.map((m) => m.get(y) ?? 0)) - Math.max(...maps.map((m) => m.get(x) ?? 0)));
    for (const op of ops) {
      if (Math.max(...maps.map((m) => m.get(op) ?? 0)) < 0.01) continue;
      L.push(`| ${op} | ${maps.map((m) => f(m.get(op) ?? 0, 3)).join(' | ')} |`);
    }
    L.push(`| all kernels | ${cols.map(([, p]) => f(p.kernelsMs, 3)).join(' | ')} |`);
    L.push(`| whole run | ${cols.map(([, p]) => f(p.runMs, 3)).join(' | ')} |`, '');
  };
  const cnnFp32 = prof('fmnist-cnn:fp32');
  if (cnnFp32 && r.nativeProfile) {
    L.push(`## Where the time goes (onnxruntime profiler, ms per batch of ${r.settings.batch})`, '');
    L.push(
      `FP32 ${r.nativeProfile.model}, onnxruntime-node vs Chromium WASM (2 threads); WASM reaches ${f(r.wasm_threads_vs_native?.['fmnist-cnn'] ?? NaN)} of native throughput on it:`,
      '',
    );
    opTable([
      ['native', r.nativeProfile.trace],
      ['Chromium WASM', cnnFp32],
    ]);
    const nat = be.native?.['fmnist-cnn'];
    const chr = be['chromium-wasm-threads']?.['fmnist-cnn'];
    const split =
      nat && chr
        ? ` The layout and pre-packing alone are worth ${f(nat.fp32.limitSps / nat.fp32.exactSps)}× natively: without them (graph level \`extended\`, pre-packing off — "AAQ exact options" in the throughput table) onnxruntime-node does ${f(nat.fp32.exactSps, 0)} samples/s, and Chromium's WASM reaches ${f(chr.fp32.limitSps / nat.fp32.exactSps)} of that; the rest is 128-bit SIMD against AVX-512.`
        : '';
    L.push(
      `The native CPU provider turns every Conv+ReLU into an NCHWc-blocked convolution on pre-packed weights with this CPU's AVX-512 (\`Conv\` + \`ReorderOutput\` above); the WASM build has 128-bit SIMD, no NCHWc layout and runs the plain im2col + SGEMM \`FusedConv\`, so the convolutions — nearly all the time — cost several times more per batch.${split} No session option of onnxruntime-web changes that (its XNNPACK provider, which had NHWC kernels, is no longer built into onnxruntime-web); the gap is the instruction set and the kernels.`,
      '',
    );
  }
  for (const name of ['fmnist-cnn', 'ppocr-cls']) {
    const a = prof(`${name}:fp32`);
    const b = prof(`${name}:switchable`);
    if (!a || !b) continue;
    L.push(
      `Chromium WASM, ${name}: FP32 vs AAQ's switchable session with every quantizer on (If-gated QuantizeLinear→DequantizeLinear per activation quantizer — the If's time includes its branch —, weights fed as inputs):`,
      '',
    );
    opTable([
      ['FP32', a],
      ['switchable, all on', b],
    ]);
  }
  if (prof('ppocr-cls:switchable')) {
    const pre = (m: string) => r.candidate_overhead?.[m]?.['chromium-wasm-threads'];
    const v = (m: string) => f(pre(m)?.value ?? NaN);
    const w = (m: string) => f(pre(m)?.switchable ?? NaN);
    L.push(
      `What a candidate run whole costs beyond FP32 in WASM is the fake quantization itself: a QuantizeLinear and a DequantizeLinear over every quantized activation (81 on PaddleOCR, whose hard-swish and squeeze-excite blocks put many element-wise activations around each small convolution) plus a sub-graph call per If; a session built per configuration runs little faster and pays for its creation on top. Run whole, the overhead is ${w('fmnist-cnn')} on the CNN and ${w('ppocr-cls')} on PaddleOCR. What brings a ranking candidate down is doing less of it: prefix_cache resumes each candidate from the cached activations of the deepest cut before its group, so it computes only the part of the network its group changes (overhead ${v('fmnist-cnn')} on the CNN, ${v('ppocr-cls')} on PaddleOCR). Iteration passes (a new configuration over all the data) still run whole.`,
      '',
    );
  }

  // ---- AAQ cost
  L.push('## AAQ cost', '');
  L.push(
    '| model | maximal_drop | status, reverted groups | drop | wall | sample inferences | POT schedule (inferences) | ratio | sessions | peak RSS | cost in FP32 passes | POT-faithful run: wall, inferences, same decisions | modes used (calls) |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    const run = r.aaq[name].default;
    if (!ok(run)) {
      L.push(`| ${name} | failed: ${(run as Failed).error} |`);
      continue;
    }
    const rep = run.report;
    const pot = potSchedule(rep);
    const p = r.aaq[name].pot;
    const potCell = ok(p) ? `${f(p.wallMs / 1000, 1)} s, ${p.report.counts.inferences}, ${decisionsSame(rep, p.report) ? 'yes' : '**no**'}` : p ? 'failed' : '—';
    const use = rep.engine.modeUse;
    const uses = use
      ? Object.entries(use)
          .filter(([, v]) => v.calls)
          .map(([k, v]) => `${MODE[k as EvalMode]} ${v.calls}`)
          .join(', ')
      : rep.engine.mode;
    const md = (rep.params as { maximal_drop?: number }).maximal_drop ?? NaN;
    L.push(
      `| ${name} | ${md} | ${rep.aaq?.status}, ${rep.reverted.length} of ${rep.groups_total} | ${pct(Object.values(rep.drop)[0])} | ${f(run.wallMs / 1000, 1)} s | ${rep.counts.inferences} | ${pot.total} | ${f(rep.counts.inferences / pot.total)} | ${rep.counts.sessions} | ${f(run.maxRssKB / 1024, 0)} MiB | ${f(run.wallMs / run.fp32PassMs, 1)} | ${potCell} | ${uses} |`,
    );
  }
  L.push(
    '',
    "POT schedule = FP32 baseline + statistics + quantized pass + Σ rankings (groups × ranking subset) + one full pass per iteration, for the decisions this run took (bench/lib/schedule.ts). Cost in FP32 passes = wall time ÷ one warm FP32 pass over the same data on the same engine (onnxruntime-node, AAQ's session options). Peak RSS: the run's own process (VmHWM of /proc/self/status; getrusage's maxRSS would report the parent's high-water mark across fork + exec).",
    '',
  );

  // ---- the model that needs the most reverting
  L.push('## Which model needs the most reverting', '');
  L.push("At POT's default maximal_drop (0.01; the bench configs above force reverting on the Fashion-MNIST models with 0.001):", '');
  L.push('| model | maximal_drop | status, reverted groups | drop | sample inferences / POT schedule (ratio) |');
  L.push('|---|---|---|---|---|');
  for (const name of names) {
    const run = atDefault(r, name);
    if (!run) continue;
    const rep = run.report;
    const pot = potSchedule(rep).total;
    L.push(
      `| ${name} | ${(rep.params as { maximal_drop?: number }).maximal_drop} | ${rep.aaq?.status}, ${rep.reverted.length} of ${rep.groups_total} | ${pct(Object.values(rep.drop)[0])} | ${rep.counts.inferences} / ${pot} (${f(rep.counts.inferences / pot)}) |`,
    );
  }
  const mr = r.most_reverting;
  L.push(
    '',
    mr
      ? `The model that needs the most reverting is **${mr.model}** (${mr.reverted} of ${mr.groups} groups at maximal_drop ${mr.maximal_drop}); its default AAQ run takes ${mr.inferences} sample inferences, ${f(mr.ratio)} of POT's schedule for the same reverted groups (${mr.pot_schedule}).`
      : 'No model needs reverting at the default maximal_drop.',
    '',
  );

  // ---- savings
  L.push("## Savings per optimisation (sample inferences avoided vs POT's schedule)", '');
  L.push('| model | reuse_evaluations | early_stop | lazy_ranking | total saved | POT schedule |');
  L.push('|---|---|---|---|---|---|');
  for (const name of names) {
    const run = r.aaq[name].default;
    if (!ok(run) || !run.report.aaq) continue;
    const s = run.report.aaq.savings;
    const tot = s.reuse_evaluations + s.early_stop + s.lazy_ranking;
    L.push(`| ${name} | ${s.reuse_evaluations} | ${s.early_stop} | ${s.lazy_ranking} | ${tot} | ${potSchedule(run.report).total} |`);
  }
  L.push(
    '',
    "Each saving is exact: the run takes the same decisions as POT's schedule (tests/unit/aaq-savings.test.ts on random scripted models, tests/integration/aaq-savings.test.ts on the zoo). A full pass stopped early is finished later only if an exact value is needed; the final metrics are always full-pass values. The fourth saving, prefix_cache, avoids work inside inferences rather than inferences (a resumed candidate still counts as one per sample): per model and back end, the throughput table gives a ranking candidate's cost with it and run whole, and the share of the network's work the resumed candidates skipped; its outputs are bit for bit the whole graph's (tests/integration/prefix-cache.test.ts), so the decisions above are the same with it off (the POT-faithful column runs with every saving off).",
    '',
  );

  // ---- deployment
  L.push('## Deployment gain of the exported QDQ model (onnxruntime-node, default options)', '');
  L.push('| model | FP32 file | QDQ file | size ratio | latency batch 1: FP32 / QDQ | ratio | batch 16: FP32 / QDQ | ratio |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    const run = r.aaq[name].default;
    if (!ok(run) || !run.deploy) continue;
    const d = run.deploy;
    L.push(
      `| ${name} | ${f(d.fp32Bytes / 1024, 0)} KiB | ${f(d.qdqBytes / 1024, 0)} KiB | ${f(d.qdqBytes / d.fp32Bytes)} | ${f(d.fp32LatencyMs, 3)} / ${f(d.qdqLatencyMs, 3)} ms | ${f(d.qdqLatencyMs / d.fp32LatencyMs)} | ${f(d.fp32Batch16Ms, 2)} / ${f(d.qdqBatch16Ms, 2)} ms | ${f(d.qdqBatch16Ms / d.fp32Batch16Ms)} |`,
    );
  }
  L.push('', 'Ratios below 1 are gains. The exported model is the AAQ result (groups reverted to FP32 stay FP32).', '');
  if (r.real_size) L.push(realSizeMarkdown(r.real_size, false));
  if (r.deployment) L.push(deploymentMarkdown(r.deployment, false));
  return L.join('\n');
}

// ---- real-size section (bench/lib/real-size.ts)

/** Issue 11's targets for the real-size runs. Peak RSS limits in bytes (GB = 10⁹ bytes). */
export const REAL_SIZE_TARGETS = {
  statisticsVsFp32: 1.5,
  dqVsFp32WithDecoding: 3.5,
  peakRssBytes: { mobilenet_v2: 1.0e9, resnet50: 1.5e9 } as Record<string, number>,
};

const secs = (ms: number | undefined) => (ms !== undefined && Number.isFinite(ms) ? `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s` : '—');
const mark = (x: number, limit: number) => (Number.isFinite(x) ? (x <= limit ? ' ✓' : ' ✗') : '');

/** The Markdown of the real-size section; `standalone`: with its own title (results of a real-size-only run). */
export function realSizeMarkdown(rs: RealSizeResults, standalone = true): string {
  const L: string[] = [];
  L.push(standalone ? '# AAQ Studio bench: real-size models' : '## Real-size models (ImageNet-sized, 224×224)', '');
  const fx = rs.fixtures;
  const models = Object.entries(fx.models)
    .filter(([m]) => rs.settings.models.includes(m))
    .map(([m, x]) => `${m} (${f(x.bytes / 2 ** 20, 1)} MiB, ${f(x.params / 1e6, 1)} M parameters)`)
    .join(', ');
  L.push(
    `Measured on ${rs.date.slice(0, 10)}${rs.source ? ` (code: ${rs.source})` : ''} in ${rs.wallSeconds.toFixed(0)} s (1-minute load average ${rs.load.start} at the start, ${rs.load.end ?? '?'} at the end). Models: torchvision's ${models || rs.settings.models.join(', ')}, exported to ONNX (opset 13, dynamic batch) with random weights and BatchNorm statistics re-estimated on the images${fx.versions ? ` (torch ${fx.versions.torch}, torchvision ${fx.versions.torchvision})` : ''}; images: Fashion-MNIST upscaled to 224×224 RGB JPEGs (${fx.images}), ImageNet mean/std normalisation; made by \`bench/real/make-fixtures.py\`. Random weights score at chance or below: these runs measure cost and memory, not accuracy. Batch ${rs.settings.batch}; ${rs.settings.threads}; ${rs.settings.reps > 1 ? `median of ${rs.settings.reps} rounds` : 'one timed round'} per figure after a warm-up batch (the statistics pass: ${(rs.settings.statsReps ?? rs.settings.reps) > 1 ? `median of ${rs.settings.statsReps ?? rs.settings.reps} rounds` : 'one round'}).`,
    '',
  );
  L.push(
    '| model | engine | images | decoding | FP32, default options | FP32, AAQ exact options | FP32 reading the images (default options) | statistics pass (÷ FP32 default) | quantize() (statistics session, pass, ranges, bias correction) | ranking candidate, run whole (÷ FP32 exact; switchable session) | DefaultQuantization, CLI end to end (÷ FP32 reading the images) | its phases | peak RSS |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const ok = (d: RealRun['dq']): d is Exclude<RealRun['dq'], { error: string } | null> => !!d && !('error' in d);
  for (const x of rs.runs) {
    const est = x.estimated ? ` (estimated: ${x.estimated.how} from ${x.estimated.from.join(', ')})` : '';
    const st = x.statistics;
    const stRatio = st.ratio ?? st.passMs / x.fp32.defaultMs;
    const cand = x.candidate ? `${secs(x.candidate.passMs)} (${f(x.candidate.ratio ?? x.candidate.passMs / x.fp32.exactMs)}; ${secs(x.candidate.createMs)})` : '—';
    let dq = '—',
      phases = '—',
      rss = '—';
    if (ok(x.dq)) {
      dq = `${secs(x.dq.wallMs)} (${f(x.dq.ratio ?? x.dq.wallMs / x.fp32.withDecodingMs)}); in-run ${secs(x.dq.runMs)}`;
      const t = x.dq.timings;
      const keys = Object.keys(t).filter((k) => k !== 'total' && t[k] >= 1);
      if (keys.length) phases = keys.map((k) => `${k} ${secs(t[k])}`).join(', ');
      if (x.dq.maxRssKB) rss = `${f(x.dq.maxRssKB / 1024, 0)} MiB`;
    } else if (x.dq) dq = `failed: ${x.dq.error}`;
    L.push(
      `| ${x.model} | ${x.engine} | ${x.samples}${est} | ${secs(x.decodeMs)} | ${secs(x.fp32.defaultMs)} | ${secs(x.fp32.exactMs)} | ${secs(x.fp32.withDecodingMs)} | ${secs(st.passMs)} (${f(stRatio)}) | ${secs(st.quantizeMs)} | ${cand} | ${dq} | ${phases} | ${rss} |`,
    );
  }
  L.push(
    '',
    "decoding: reading, decoding (jpeg-js) and normalising every image, one after the other, in JavaScript. FP32 passes from memory run on the decoded tensors; \"reading the images\" decodes while onnxruntime runs the previous batch, as every AAQ pass does. AAQ exact options: graph optimisation `extended` without pre-packing (EXACT_SESSION_OPTIONS), which AAQ's FP32 baseline and switchable sessions use. statistics pass: DefaultQuantization's activation statistics over all the images (stat_subset_size = images), from memory, its session's creation excluded. ranking candidate: the quantized model with its middle group reverted, evaluated whole on the switchable session (AAQ's rankings resume most candidates from cached activations with prefix_cache, so they cost less). DefaultQuantization: `aaq quantize` in its own process on the config's stat_subset_size (300): FP32 baseline, statistics, quantized evaluation, QDQ export; wall time from outside (node start and module loading included) and the run's own total; peak RSS from `/usr/bin/time -v`. Estimated rows are not measured (peak RSS is not estimated). Ratios are taken against an FP32 pass timed right next to the figure (the statistics pass: the default-options pass from memory just before it; the candidate: the exact-options pass just before it; DefaultQuantization: the mean of the default-options passes reading the images just before and after it), so that load from elsewhere on this shared machine hits both alike; the FP32 columns are separate rounds.",
    '',
  );

  // issue 11's acceptance, on the measured native runs
  const nat = rs.runs.filter((x) => x.engine === 'native' && !x.estimated);
  if (nat.length) {
    const T = REAL_SIZE_TARGETS;
    L.push(standalone ? '## Targets (issue 11), onnxruntime-node' : '### Targets (issue 11), onnxruntime-node', '');
    L.push(
      `| model | images | statistics pass ÷ FP32 default (≤ ${T.statisticsVsFp32}) | DefaultQuantization end to end ÷ FP32 reading the images (≤ ${T.dqVsFp32WithDecoding}) | peak RSS (MobileNetV2 ≤ 1.0 GB, ResNet-50 ≤ 1.5 GB) |`,
    );
    L.push('|---|---|---|---|---|');
    for (const x of nat) {
      const s = x.statistics.ratio ?? x.statistics.passMs / x.fp32.defaultMs;
      const d = ok(x.dq) ? (x.dq.ratio ?? x.dq.wallMs / x.fp32.withDecodingMs) : NaN;
      const rssB = ok(x.dq) && x.dq.maxRssKB ? x.dq.maxRssKB * 1024 : NaN;
      const lim = T.peakRssBytes[x.model];
      L.push(
        `| ${x.model} | ${x.samples} | ${f(s)}${mark(s, T.statisticsVsFp32)} | ${f(d)}${mark(d, T.dqVsFp32WithDecoding)} | ${Number.isFinite(rssB) ? `${f(rssB / 1e9)} GB` : '—'}${lim ? mark(rssB, lim) : ''} |`,
      );
    }
    L.push('');
  }
  return L.join('\n');
}
