import { readFileSync } from 'node:fs';
import { decodeModel } from '../src/core/onnx/proto';
import { GraphIndex } from '../src/core/onnx/graph';
import { normalizeModel } from '../src/core/onnx/normalize';
import { readTensor } from '../src/core/onnx/tensor';
import { exportQdqModel } from '../src/core/quant/qdq-export';
import { buildSwitchableModel, makeFeeds } from '../src/core/quant/switchable';
import { fakeQuantize } from '../src/core/quant/ranges';
import { Runner, placement, diff, f32, lcg, calibrate, EXACT } from '../tests/conformance/helpers';
const r = await Runner.create('native');
const OPT: any = { graphOptimizationLevel: process.env.LVL, logSeverityLevel: 3, extra: { session: { disable_prepacking: '1' } } };
const f = 'fmnist-cnn'; const dims = [8,1,28,28];
const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`))).model;
const specs = placement(m);
console.log(JSON.stringify(specs));
const idx = new GraphIndex(m);
const inName = idx.inputs[0];
const X = f32([...dims], lcg(dims.reduce((a,b)=>a*b), 3, 1.5));
const params = await calibrate(r, m, specs, { [inName]: X });
const over: Record<string, Float32Array> = {};
for (const s of specs) if (s.kind === 'weight') { const t = readTensor(idx.initializers.get(s.tensor)!); over[s.tensor] = fakeQuantize(t.data as Float32Array, t.dims, params[s.id], s.axis ?? 0); }
const { model: sw, layout } = buildSwitchableModel(m, specs, { flavor: 'qdq', overridable: Object.keys(over) });
for (const s of specs) {
  const enabled = new Set([s.id]);
  const e = exportQdqModel(m, specs, params, enabled, {});
  const a = await r.runModel(e, { [inName]: X }, OPT);
  const o = s.kind === 'weight' ? { [s.tensor]: over[s.tensor] } : {};
  const b = await r.runModel(sw, { [inName]: X, ...makeFeeds(layout, enabled, params, o) }, OPT);
  const k = Object.keys(a)[0];
  console.log(s.id, diff(a[k], b[k]), params[s.id].scale.length);
}
{
  const ids: string[] = [];
  for (const s of specs) {
    ids.push(s.id);
    const enabled = new Set(ids);
    const e = exportQdqModel(m, specs, params, enabled, {});
    const a = await r.runModel(e, { [inName]: X }, OPT);
    const o = Object.fromEntries(specs.filter(q => q.kind === 'weight' && enabled.has(q.id)).map(q => [q.tensor, over[q.tensor]]));
    const b = await r.runModel(sw, { [inName]: X, ...makeFeeds(layout, enabled, params, o) }, OPT);
    const b2 = await r.runModel(sw, { [inName]: X, ...makeFeeds(layout, enabled, params, over) }, OPT);
    const k = Object.keys(a)[0];
    console.log('cum', s.id, diff(a[k], b[k]), diff(a[k], b2[k]));
  }
}
