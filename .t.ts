import { readFileSync } from 'node:fs';
import { decodeModel } from './src/core/onnx/proto';
import { normalizeModel } from './src/core/onnx/normalize';
import { GraphIndex } from './src/core/onnx/graph';
import { analyzePlacement } from './src/core/quant/placement';
import { GroupFinder } from './src/core/quant/groups';
import { parsePotConfig } from './src/core/config/parse';
const p = parsePotConfig(JSON.stringify({model:{model:'m.onnx'},engine:{dataset:{data_source:'d'}},compression:{algorithms:[{name:'DefaultQuantization',params:{}}]}}),'x').config.compression.algorithms[0].params as any;
for (const f of ['fmnist-cnn','fmnist-resnet','fmnist-mobilenet','ch_ppocr_mobile_v2.0_cls_infer']) {
  const { model } = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`)));
  const idx = new GraphIndex(model);
  const pl = analyzePlacement(idx, p);
  const gf = new GroupFinder(idx, pl.quantizers, pl.ops);
  const gs = gf.groups(pl.quantizers.map(q=>q.id));
  console.log(f, 'quantizers', pl.quantizers.length, 'ops', pl.ops.length, 'groups', gs.length, 'ignored', pl.ignored.length);
  if (f.startsWith('ch_')) { console.log(gs.slice(0,6).map(g=>JSON.stringify(g)).join('\n')); console.log(pl.ignored.slice(0,5)); }
}
