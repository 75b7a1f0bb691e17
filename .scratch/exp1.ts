import { readFileSync } from 'node:fs';
import { decodeModel, encodeModel } from '../src/core/onnx/proto';
import { normalizeModel } from '../src/core/onnx/normalize';
import { GraphIndex } from '../src/core/onnx/graph';
import { buildSwitchableModel, makeFeeds } from '../src/core/quant/switchable';
import { createNodeEngine } from '../src/node/engines';
import type { QuantizerSpec } from '../src/core/types';

function specsFor(model: any): { specs: QuantizerSpec[]; over: string[] } {
  const idx = new GraphIndex(model);
  const specs: QuantizerSpec[] = []; const over: string[] = [];
  const byT = new Map<string, QuantizerSpec>();
  for (const n of idx.nodes) {
    if (!['Conv','MatMul','Gemm','Add','Mul'].includes(n.opType!)) continue;
    n.input!.forEach((t, k) => {
      if (!t) return;
      if (idx.isConstant(t)) { if (idx.initializers.get(t)!.dataType === 1) over.push(t); return; }
      let s = byT.get(t);
      if (!s) { s = { id: 'a:' + t, kind: 'activation', tensor: t, consumers: [], mode: 'symmetric', granularity: 'pertensor', levels: 256 }; byT.set(t, s); specs.push(s); }
      s.consumers.push({ node: n.name!, input: k });
    });
  }
  return { specs, over: [...new Set(over)] };
}
for (const kind of ['native', 'wasm'] as const) {
  const eng = await createNodeEngine(kind);
  for (const f of ['fmnist-cnn','fmnist-resnet','fmnist-mobilenet','ch_ppocr_mobile_v2.0_cls_infer']) {
    const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`))).model;
    const { specs, over } = specsFor(m);
    const isOcr = f.startsWith('ch_');
    const dims = isOcr ? [4, 3, 48, 192] : [8, 1, 28, 28];
    const x = new Float32Array(dims.reduce((a, b) => a * b)); for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 2;
    const inName = m.graph!.input![0].name!;
    const s0 = await eng.createSession(encodeModel(m));
    const r0 = await eng.run(s0, { [inName]: { type: 'float32', dims, data: x } });
    for (const flavor of ['float', 'qdq'] as const) {
      const { model: sm, layout } = buildSwitchableModel(m, specs, { flavor, overridable: over });
      const s1 = await eng.createSession(encodeModel(sm));
      const feeds = makeFeeds(layout, new Set(), {}, {});
      const r1 = await eng.run(s1, { [inName]: { type: 'float32', dims, data: x }, ...feeds });
      const o = Object.keys(r0)[0];
      const a = r0[o].data as Float32Array, b = r1[o].data as Float32Array;
      let maxd = 0, neq = 0; for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (d > maxd) maxd = d; if (a[i] !== b[i]) neq++; }
      console.log(kind, f, flavor, 'specs', specs.length, 'over', over.length, 'neq', neq, 'maxd', maxd);
    }
  }
}
