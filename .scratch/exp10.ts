import { readFileSync } from 'node:fs';
import { decodeModel } from '../src/core/onnx/proto';
import { GraphIndex } from '../src/core/onnx/graph';
import { normalizeModel } from '../src/core/onnx/normalize';
import { exportQdqModel } from '../src/core/quant/qdq-export';
import { Runner, placement, diff, f32, lcg, calibrate, QUIET } from '../tests/conformance/helpers';
const r = await Runner.create('native');
const f = 'fmnist-cnn'; const dims = [8,1,28,28];
const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`))).model;
const specs = placement(m);
const idx = new GraphIndex(m);
const X = f32([...dims], lcg(dims.reduce((a,b)=>a*b), 3, 1.5));
const params = await calibrate(r, m, specs, { input: X });
const e = exportQdqModel(m, specs, params, new Set(specs.slice(0, 3).map(s => s.id)), {});
const ref = await r.runModel(e, { input: X }, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
for (const dis of ['', 'WeightBiasQuantization', 'QDQPropagationTransformer', 'ReluQuantFusion', 'WeightBiasQuantization;ReluQuantFusion;QDQPropagationTransformer;ConstantFolding']) {
  const a = await r.runModel(e, { input: X }, { graphOptimizationLevel: 'basic', logSeverityLevel: 3, extra: { optimization: { disable_specified_optimizers: dis } } } as any);
  console.log(JSON.stringify(dis), diff(a.logits, ref.logits));
}
const a = await r.runModel(e, { input: X }, { graphOptimizationLevel: 'basic', logSeverityLevel: 0, logVerbosityLevel: 0 } as any);
