import { readFileSync } from 'node:fs';
import { decodeModel } from './src/core/onnx/proto';
import { normalizeModel } from './src/core/onnx/normalize';
import { GraphIndex } from './src/core/onnx/graph';
import { readTensor } from './src/core/onnx/tensor';
const { model } = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/ch_ppocr_mobile_v2.0_cls_infer.onnx`)));
const idx = new GraphIndex(model);
for (const n of idx.nodes.slice(0,12)) { console.log(n.opType, n.name, n.input, n.output, (n.input??[]).filter(i=>idx.initializers.has(i)).map(i=>{const t=readTensor(idx.initializers.get(i)!); return [t.dims, t.type, Array.from((t.data as any).slice(0,2))]}).filter(x=>(x[0] as any).length<2)); }
