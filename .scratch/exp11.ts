import { readFileSync } from 'node:fs';
import { decodeModel, encodeModel, onnx } from '../src/core/onnx/proto';
import { GraphIndex } from '../src/core/onnx/graph';
import { normalizeModel } from '../src/core/onnx/normalize';
import { exportQdqModel } from '../src/core/quant/qdq-export';
import { Runner, placement, f32, lcg, calibrate } from '../tests/conformance/helpers';
const r = await Runner.create('native');
for (const [f, dims] of [['fmnist-cnn',[8,1,28,28]],['fmnist-mobilenet',[8,1,28,28]],['ch_ppocr_mobile_v2.0_cls_infer',[4,3,48,192]]] as const) {
  const bytes = readFileSync(`tests/fixtures/models/${f}.onnx`);
  const m = normalizeModel(decodeModel(bytes)).model;
  const specs = placement(m);
  const idx = new GraphIndex(m);
  const X = f32([...dims], lcg(dims.reduce((a,b)=>a*b), 3, 1.5));
  const params = await calibrate(r, m, specs, { [idx.inputs[0]]: X });
  const e = exportQdqModel(m, specs, params, new Set(specs.map(s => s.id)), {});
  const size = (t: any) => onnx.TensorProto.encode(t).finish().byteLength;
  const byType: Record<string, number> = {};
  for (const t of e.graph!.initializer!) byType[t.dataType!] = (byType[t.dataType!] ?? 0) + size(t);
  const nodesBytes = e.graph!.node!.reduce((a, n) => a + onnx.NodeProto.encode(n).finish().byteLength, 0);
  const fl = e.graph!.initializer!.filter(t => t.dataType === 1).map(t => [t.name, size(t)] as const).sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(f, 'orig', bytes.byteLength, 'normalized', encodeModel(m).byteLength, 'export', encodeModel(e).byteLength, byType, 'nodes', nodesBytes, fl);
}
