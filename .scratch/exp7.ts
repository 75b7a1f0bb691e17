import { readFileSync } from 'node:fs';
import { decodeModel } from '../src/core/onnx/proto';
import { GraphIndex } from '../src/core/onnx/graph';
import { normalizeModel } from '../src/core/onnx/normalize';
import { readTensor } from '../src/core/onnx/tensor';
import { exportQdqModel } from '../src/core/quant/qdq-export';
import { buildSwitchableModel, makeFeeds } from '../src/core/quant/switchable';
import { fakeQuantize } from '../src/core/quant/ranges';
import { Runner, placement, diff, f32, lcg, calibrate, QUIET } from '../tests/conformance/helpers';
const r = await Runner.create('native');
for (const [f, dims] of [['fmnist-cnn',[8,1,28,28]],['fmnist-resnet',[8,1,28,28]],['fmnist-mobilenet',[8,1,28,28]],['ch_ppocr_mobile_v2.0_cls_infer',[4,3,48,192]]] as const) {
  const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`))).model;
  const specs = placement(m);
  const idx = new GraphIndex(m);
  const inName = idx.inputs[0];
  const X = f32([...dims], lcg(dims.reduce((a,b)=>a*b), 3, 1.5));
  const params = await calibrate(r, m, specs, { [inName]: X });
  const enabled = new Set(specs.map(s => s.id));
  const e = exportQdqModel(m, specs, params, enabled, {});
  const over: Record<string, Float32Array> = {};
  for (const s of specs) if (s.kind === 'weight') { const t = readTensor(idx.initializers.get(s.tensor)!); over[s.tensor] = fakeQuantize(t.data as Float32Array, t.dims, params[s.id], s.axis ?? 0); }
  const { model: sw, layout } = buildSwitchableModel(m, specs, { flavor: 'qdq', overridable: Object.keys(over) });
  for (const [lab, opt] of [['basic-nopack', { graphOptimizationLevel: 'basic', logSeverityLevel: 3, extra: { session: { disable_prepacking: '1' } } }], ['extended-nopack', { graphOptimizationLevel: 'extended', logSeverityLevel: 3, extra: { session: { disable_prepacking: '1' } } }], ['all', QUIET]] as const) {
    const a = await r.runModel(e, { [inName]: X }, opt as any);
    const b = await r.runModel(sw, { [inName]: X, ...makeFeeds(layout, enabled, params, over) }, opt as any);
    const fp = await r.runModel(m, { [inName]: X }, opt as any);
    const k = Object.keys(a)[0];
    const mx = Math.max(...Array.from(b[k].data as Float32Array, Math.abs));
    console.log(f, lab, 'export vs switchable', diff(a[k], b[k]), 'max|y|', mx.toFixed(3), 'quant vs fp32', diff(b[k], fp[k]).maxAbs.toFixed(4));
  }
}
