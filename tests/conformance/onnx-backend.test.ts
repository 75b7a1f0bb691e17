// Conformance over the ONNX backend node tests of Debian's libonnx-testdata package (a system
// package: .ci/run installs it). For every test model:
//   decode (src/core/onnx/proto) → normalizeModel → encode → run in onnxruntime-node → compare with
//   the expected outputs (1e-5 relative + 1e-6 absolute, exact for integers/bools/strings);
//   then rewrite with buildSwitchableModel (qdq and float flavors; quantizers from placeQuantizers
//   plus one on every float input of Conv/MatMul/Gemm/Add/Mul), all off, and compare again (and
//   with the round-trip's own outputs, bit for bit); models below opset 13 are also raised to 13
//   (the QDQ export's converter) and compared.
// Categories: refused = our loader/rewriter raised a QuantizeError (a clear error, not a crash);
// runtime-unsupported = onnxruntime cannot load or run the ORIGINAL file, or the original file's
// own outputs already miss the reference (random ops, ORT numerics); failed = anything else.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphIndex } from '../../src/core/onnx/graph';
import { normalizeModel } from '../../src/core/onnx/normalize';
import { upgradeOpset } from '../../src/core/onnx/opset-upgrade';
import { decodeModel, encodeModel, onnx, opsetVersion, type ModelProto } from '../../src/core/onnx/proto';
import { readTensor, toFloat32 } from '../../src/core/onnx/tensor';
import { buildSwitchableModel, makeFeeds, type SwitchFlavor } from '../../src/core/quant/switchable';
import { QuantizeError, type QuantizerSpec, type TensorData } from '../../src/core/types';
import { EXACT, Runner, placement, simplePlacement } from './helpers';

/** Where Debian's libonnx-testdata puts the node tests (override: ONNX_TESTDATA_NODE_DIR). */
const NODE_DIR = process.env.ONNX_TESTDATA_NODE_DIR ?? '/usr/share/libonnx-testdata/data/node';
const RTOL = 1e-5;
const ATOL = 1e-6;

interface Case {
  name: string;
  dir: string;
}

type Outcome = { kind: 'passed'; notes: string[] } | { kind: 'refused'; reason: string } | { kind: 'runtime-unsupported'; reason: string } | { kind: 'failed'; reason: string };

class Refused extends Error {}
class Runtime extends Error {}

function cases(): Case[] {
  return readdirSync(NODE_DIR)
    .filter((d) => d.startsWith('test_') && existsSync(join(NODE_DIR, d, 'model.onnx')))
    .sort()
    .map((name) => ({ name, dir: join(NODE_DIR, name) }));
}

function readPb(file: string): TensorData | undefined {
  try {
    const t = onnx.TensorProto.decode(readFileSync(file));
    // Sequence/Optional/Map protos decode as (nonsense) TensorProtos: accept only consistent ones.
    if (!t.dataType) return undefined;
    return readTensor(t);
  } catch {
    return undefined;
  }
}

function dataSets(c: Case): { inputs: TensorData[]; outputs: TensorData[] }[] {
  return readdirSync(c.dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort()
    .map((d) => {
      const files = readdirSync(join(c.dir, d));
      const load = (prefix: string) =>
        files
          .filter((f) => f.startsWith(prefix))
          .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]))
          .map((f) => readPb(join(c.dir, d, f)));
      const inputs = load('input_');
      const outputs = load('output_');
      if (inputs.some((t) => !t) || outputs.some((t) => !t)) throw new Refused('non-tensor test data (sequence/optional/map values)');
      return { inputs: inputs as TensorData[], outputs: outputs as TensorData[] };
    });
}

function nonTensorIo(model: ModelProto): string | undefined {
  const g = model.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  for (const v of [...(g.input ?? []).filter((i) => !inits.has(i.name)), ...(g.output ?? [])]) {
    if (!v.type?.tensorType) return `'${v.name}' is not a tensor (sequence/optional/map values are not quantized)`;
  }
  return undefined;
}

function close(got: TensorData, want: TensorData, what: string): string | undefined {
  if (got.dims.length !== want.dims.length || got.dims.some((d, i) => d !== want.dims[i])) return `${what}: shape [${got.dims}] vs expected [${want.dims}]`;
  if (want.type === 'string' || got.type === 'string') {
    const a = got.data as string[];
    const b = want.data as string[];
    return a.every((v, i) => v === b[i]) ? undefined : `${what}: strings differ`;
  }
  const isFloat = (t: string) => t === 'float32' || t === 'float64' || t === 'float16';
  if (!isFloat(want.type)) {
    const a = got.data as ArrayLike<number | bigint>;
    const b = want.data as ArrayLike<number | bigint>;
    for (let i = 0; i < b.length; i++) if (String(a[i]) !== String(b[i])) return `${what}[${i}]: ${a[i]} vs expected ${b[i]}`;
    return undefined;
  }
  const a = got.type === 'float64' ? (got.data as Float64Array) : toFloat32(got);
  const b = want.type === 'float64' ? (want.data as Float64Array) : toFloat32(want);
  for (let i = 0; i < b.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(y) ? Number.isNaN(x) : x === y || Math.abs(x - y) <= ATOL + RTOL * Math.abs(y)) continue;
    return `${what}[${i}]: ${x} vs expected ${y}`;
  }
  return undefined;
}

function bitEqual(a: TensorData, b: TensorData): boolean {
  if (a.type === 'string') return (a.data as string[]).every((v, i) => v === (b.data as string[])[i]);
  const x = a.data as ArrayLike<number | bigint>;
  const y = b.data as ArrayLike<number | bigint>;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!(Object.is(x[i], y[i]) || (Number.isNaN(x[i]) && Number.isNaN(y[i])))) return false;
  return true;
}

const refusal = (e: unknown): never => {
  if (e instanceof QuantizeError) throw new Refused(e.message);
  throw e;
};

async function runAll(
  r: Runner,
  model: ModelProto | Uint8Array,
  inputNames: string[],
  sets: { inputs: TensorData[] }[],
  extra: (k: number) => Record<string, TensorData> = () => ({}),
): Promise<Record<string, TensorData>[]> {
  const s = await r.session(model, EXACT);
  try {
    const out: Record<string, TensorData>[] = [];
    for (let k = 0; k < sets.length; k++) {
      const feeds: Record<string, TensorData> = { ...extra(k) };
      sets[k].inputs.forEach((t, i) => (feeds[inputNames[i]] = t));
      out.push(await r.run(s, feeds));
    }
    return out;
  } finally {
    await s.release();
  }
}

function compareSets(got: Record<string, TensorData>[], sets: { outputs: TensorData[] }[], outputNames: string[], what: string): string | undefined {
  for (let k = 0; k < sets.length; k++) {
    for (let i = 0; i < sets[k].outputs.length; i++) {
      const name = outputNames[i];
      const bad = close(got[k][name], sets[k].outputs[i], `${what} set ${k} '${name}'`);
      if (bad) return bad;
    }
  }
  return undefined;
}

function overridableOf(model: ModelProto, specs: QuantizerSpec[]): string[] {
  const idx = new GraphIndex(model);
  const names = new Set<string>();
  for (const s of specs) {
    if (s.kind !== 'weight') continue;
    names.add(s.tensor);
    for (const c of s.consumers) {
      const b = idx.nodes[idx.nodeByName.get(c.node) ?? -1]?.input?.[2];
      if (b && idx.initializers.get(b)?.dataType === 1) names.add(b);
    }
  }
  return [...names];
}

async function check(r: Runner, c: Case): Promise<Outcome> {
  const bytes = readFileSync(join(c.dir, 'model.onnx'));
  const notes: string[] = [];
  try {
    const original = (() => {
      try {
        return decodeModel(bytes, c.name);
      } catch (e) {
        return refusal(e);
      }
    })();
    const io = nonTensorIo(original);
    if (io) throw new Refused(io);
    const sets = dataSets(c);
    const g = original.graph!;
    const inits = new Set((g.initializer ?? []).map((t) => t.name));
    const inputNames = (g.input ?? []).map((i) => i.name ?? '').filter((n) => !inits.has(n));
    const outputNames = (g.output ?? []).map((o) => o.name ?? '');
    // The original file in onnxruntime: does the runtime load it, and match the reference?
    let orig: Record<string, TensorData>[];
    try {
      orig = await runAll(r, bytes, inputNames, sets);
    } catch (e) {
      throw new Runtime(`onnxruntime: ${(e as Error).message.split('\n')[0].slice(0, 160)}`);
    }
    const runtimeMiss = compareSets(orig, sets, outputNames, 'original');
    if (runtimeMiss) throw new Runtime(`the original model's own outputs miss the reference: ${runtimeMiss}`);
    // 1. round trip
    let normalized: ModelProto;
    try {
      normalized = normalizeModel(original, c.name).model;
    } catch (e) {
      return refusal(e);
    }
    const rt = await runAll(r, encodeModel(normalized), inputNames, sets);
    const bad = compareSets(rt, sets, outputNames, 'round trip');
    if (bad) return { kind: 'failed', reason: bad };
    // 2. switchable, all off
    const specSets: [string, QuantizerSpec[]][] = [];
    try {
      specSets.push(['placeQuantizers', placement(normalized)]);
    } catch (e) {
      if (!(e instanceof QuantizeError)) throw e;
      notes.push(`placeQuantizers refused: ${e.message}`);
    }
    specSets.push(['every float input of Conv/MatMul/Gemm/Add/Mul', simplePlacement(normalized)]);
    for (const [label, specs] of specSets) {
      if (!specs.length && label === 'placeQuantizers') continue;
      for (const flavor of ['qdq', 'float'] as SwitchFlavor[]) {
        let built;
        try {
          built = buildSwitchableModel(normalized, specs, { flavor, overridable: overridableOf(normalized, specs) });
        } catch (e) {
          return refusal(e);
        }
        if (built.layout.activations.length && !notes.includes('quantized')) notes.push('quantized');
        const feeds = makeFeeds(built.layout, new Set(), {}, {});
        const sw = await runAll(r, encodeModel(built.model), inputNames, sets, () => feeds);
        const miss = compareSets(sw, sets, outputNames, `switchable (${flavor}, ${label})`);
        if (miss) return { kind: 'failed', reason: miss };
        for (let k = 0; k < sets.length; k++) {
          for (const name of outputNames) {
            if (!bitEqual(sw[k][name], rt[k][name]))
              return { kind: 'failed', reason: `switchable (${flavor}, ${label}) set ${k} '${name}' is not bit-identical to the round trip` };
          }
        }
      }
    }
    // 3. the QDQ export's opset converter
    if (opsetVersion(normalized) < 13) {
      let up: ModelProto | undefined;
      try {
        up = upgradeOpset(normalized, 13).model;
      } catch (e) {
        if (!(e instanceof QuantizeError)) throw e;
        notes.push(`opset ${opsetVersion(normalized)} → 13 refused: ${e.message}`);
      }
      if (up) {
        let got: Record<string, TensorData>[] | undefined;
        try {
          got = await runAll(r, encodeModel(up), inputNames, sets);
        } catch (e) {
          return { kind: 'failed', reason: `opset ${opsetVersion(normalized)} → 13: onnxruntime: ${(e as Error).message.split('\n')[0].slice(0, 200)}` };
        }
        const miss = compareSets(got, sets, outputNames, `opset ${opsetVersion(normalized)} → 13`);
        if (miss) return { kind: 'failed', reason: miss };
        notes.push(`upgraded ${opsetVersion(normalized)} → 13`);
      }
    }
    return { kind: 'passed', notes };
  } catch (e) {
    if (e instanceof Refused) return { kind: 'refused', reason: e.message };
    if (e instanceof Runtime) return { kind: 'runtime-unsupported', reason: e.message };
    return { kind: 'failed', reason: `crash: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}` };
  }
}

describe('ONNX backend node tests (Debian libonnx-testdata)', () => {
  it('round-trip and all-off switchable graphs reproduce the expected outputs', { timeout: 600_000 }, async () => {
    expect(
      existsSync(NODE_DIR),
      `the ONNX backend test data is missing: ${NODE_DIR} does not exist. Install Debian's libonnx-testdata package (apt-get install libonnx-testdata; .ci/run does it), or point ONNX_TESTDATA_NODE_DIR at its data/node folder.`,
    ).toBe(true);
    const list = cases();
    expect(list.length, `no test_*/model.onnx under ${NODE_DIR}`).toBeGreaterThan(100);
    const r = await Runner.create('native');
    const results: [Case, Outcome][] = [];
    for (const c of list) results.push([c, await check(r, c)]);
    const count = (k: Outcome['kind']) => results.filter(([, o]) => o.kind === k).length;
    const tried = results.length;
    const refused = count('refused');
    const runtime = count('runtime-unsupported');
    const failed = count('failed');
    const passed = count('passed');
    const accepted = tried - refused - runtime;
    const upgraded = results.filter(([, o]) => o.kind === 'passed' && o.notes.some((n) => n.startsWith('upgraded'))).length;
    const quantized = results.filter(([, o]) => o.kind === 'passed' && o.notes.includes('quantized')).length;
    const lines = [
      `conformance: tried ${tried}, accepted ${accepted}, passed ${passed}, refused ${refused}, runtime-unsupported ${runtime}, failed ${failed}`,
      `  (${quantized} passed models got activation quantizers in the switchable rewrite; ${upgraded} below opset 13 were also raised to 13 and matched)`,
      ...results.filter(([, o]) => o.kind === 'failed').map(([c, o]) => `  FAILED ${c.name}: ${(o as { reason: string }).reason}`),
    ];
    if (process.env.CONFORMANCE_VERBOSE) {
      for (const [c, o] of results) if (o.kind !== 'passed' && o.kind !== 'failed') lines.push(`  ${o.kind} ${c.name}: ${o.reason}`);
      for (const [c, o] of results) if (o.kind === 'passed' && o.notes.some((n) => n !== 'quantized')) lines.push(`  note ${c.name}: ${o.notes.join('; ')}`);
    }
    console.log(lines.join('\n'));
    expect(failed, lines.join('\n')).toBe(0);
    expect(passed).toBe(accepted);
  });
});
