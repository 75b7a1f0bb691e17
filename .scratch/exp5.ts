import { readFileSync } from 'node:fs';
import { decodeModel } from '../src/core/onnx/proto';
import { normalizeModel } from '../src/core/onnx/normalize';
import { placement } from '../tests/conformance/helpers';
for (const f of ['fmnist-cnn','fmnist-resnet','fmnist-mobilenet','ch_ppocr_mobile_v2.0_cls_infer']) {
  const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`))).model;
  const s = placement(m);
  console.log(f, s.filter(x=>x.kind==='activation').length, s.filter(x=>x.kind==='weight').length, s.filter(x=>x.granularity==='perchannel'&&x.kind==='activation').map(x=>x.id+':'+x.channels).slice(0,3));
}
