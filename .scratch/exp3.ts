import { readFileSync } from 'node:fs';
import { decodeModel, encodeModel } from '../src/core/onnx/proto';
import { normalizeModel } from '../src/core/onnx/normalize';
import { buildSwitchableModel, makeFeeds } from '../src/core/quant/switchable';
import { createNodeEngine } from '../src/node/engines';
const f = 'fmnist-cnn';
const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`))).model;
console.log(m.graph!.node!.map(n => `${n.opType}(${n.input})`).join('\n'));
const dims = [8, 1, 28, 28];
const x = new Float32Array(dims.reduce((a, b) => a * b)); for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 2;
for (const extra of [{ disable_prepacking: '1' }]) {
for (const kind of ['native', 'wasm'] as const) {
  const eng = await createNodeEngine(kind, { sessionOptions: { graphOptimizationLevel: 'basic', logSeverityLevel: 3, extra: { session: extra } } as any });
  const s0 = await eng.createSession(encodeModel(m));
  const r0 = await eng.run(s0, { input: { type: 'float32', dims, data: x } });
  for (const ov of m.graph!.initializer!.map(t => t.name!)) {
    const { model: sm, layout } = buildSwitchableModel(m, [], { flavor: 'qdq', overridable: [ov] });
    const s1 = await eng.createSession(encodeModel(sm));
    const r1 = await eng.run(s1, { input: { type: 'float32', dims, data: x } });
    const a = r0.logits.data as Float32Array, b = r1.logits.data as Float32Array;
    let neq = 0; for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) neq++;
    console.log(JSON.stringify(extra), kind, ov, 'neq', neq);
  }
}
}
