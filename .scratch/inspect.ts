import { readFileSync } from 'node:fs';
import { decodeModel, opsetVersion } from '../src/core/onnx/proto';
for (const f of ['fmnist-cnn','fmnist-resnet','fmnist-mobilenet','ch_ppocr_mobile_v2.0_cls_infer']) {
  const m = decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`));
  const ops: Record<string, number> = {};
  for (const n of m.graph!.node!) ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;
  console.log(f, 'opset', opsetVersion(m), 'ir', String(m.irVersion), JSON.stringify(ops));
  console.log(' inputs', m.graph!.input!.map(i => i.name + JSON.stringify(i.type?.tensorType?.shape?.dim?.map(d => d.dimValue ?? d.dimParam))).slice(0,3), 'init', m.graph!.initializer!.length, 'vi', m.graph!.valueInfo?.length);
}
