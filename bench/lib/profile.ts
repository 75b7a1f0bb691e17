// Where an FP32 pass spends its time, per operator type: onnxruntime's own profiler (a Chrome trace
// of kernel times) on onnxruntime-node and in the Chromium page, aggregated over the timed runs.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string; provider?: string };
}

export interface OpProfile {
  /** Milliseconds per run (batch) spent in each operator type, largest first. */
  ops: [string, number][];
  /** Kernel time per run, ms. */
  kernelsMs: number;
  /** model_run time per run, ms (kernels + executor and copies). */
  runMs: number;
}

/** Aggregates a trace, skipping the first (warm-up) run. */
export function aggregateTrace(events: TraceEvent[]): OpProfile {
  const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  if (runs.length < 2) throw new Error('the profile holds fewer than two runs');
  const cut = runs[0].ts + runs[0].dur;
  const n = runs.length - 1;
  const ops = new Map<string, number>();
  let kernels = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || e.ts <= cut || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    ops.set(op, (ops.get(op) ?? 0) + e.dur / 1000 / n);
    kernels += e.dur / 1000 / n;
  }
  return {
    ops: [...ops.entries()].sort((a, b) => b[1] - a[1]),
    kernelsMs: kernels,
    runMs: runs.slice(1).reduce((a, e) => a + e.dur, 0) / 1000 / n,
  };
}

/** Profile of `runs` runs of one batch on onnxruntime-node (default options). */
export async function nativeProfile(model: Uint8Array, x: Float32Array, dims: number[], runs: number, dir: string): Promise<OpProfile> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, 'native') });
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, dims) };
  for (let i = 0; i <= runs; i++) await s.run(feeds);
  s.endProfiling();
  await s.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error('onnxruntime-node wrote no profile');
  return aggregateTrace(JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[]);
}

/** The trace onnxruntime-web prints to the console on endProfiling(), from the collected lines. */
export function traceFromConsole(lines: string[]): TraceEvent[] {
  const text = lines.join('\n');
  const a = text.indexOf('[');
  const b = text.lastIndexOf(']');
  if (a < 0 || b < a) throw new Error('no profile in the console output');
  return JSON.parse(text.slice(a, b + 1)) as TraceEvent[];
}
