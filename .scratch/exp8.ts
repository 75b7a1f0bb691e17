import { GraphIndex } from '../src/core/onnx/graph';
import { readTensor } from '../src/core/onnx/tensor';
import { exportQdqModel } from '../src/core/quant/qdq-export';
import { buildSwitchableModel, makeFeeds } from '../src/core/quant/switchable';
import { fakeQuantize } from '../src/core/quant/ranges';
import { Runner, diff, f32, composite, compositeParams, tieInput, EXACT } from '../tests/conformance/helpers';
const r = await Runner.create('native');
const { model: m, specs, weights } = composite();
const params = compositeParams(weights);
const X = f32([2, 4, 6, 6], tieInput([2, 4, 6, 6]));
const idx = new GraphIndex(m);
const over: Record<string, Float32Array> = {};
for (const s of specs) if (s.kind === 'weight') { const t = readTensor(idx.initializers.get(s.tensor)!); over[s.tensor] = fakeQuantize(t.data as Float32Array, t.dims, params[s.id], s.axis ?? 0); }
const { model: sw, layout } = buildSwitchableModel(m, specs, { flavor: 'qdq', overridable: Object.keys(over) });
for (const s of specs) {
  const enabled = new Set([s.id]);
  const e = exportQdqModel(m, specs, params, enabled, {});
  const a = await r.runModel(e, { X }, EXACT);
  const o = s.kind === 'weight' ? { [s.tensor]: over[s.tensor] } : {};
  const b = await r.runModel(sw, { X, ...makeFeeds(layout, enabled, params, o) }, EXACT);
  console.log(s.id, diff(a.Y, b.Y));
}
