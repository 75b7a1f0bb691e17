import { Runner, composite } from '../tests/conformance/helpers';
import { buildSwitchableModel } from '../src/core/quant/switchable';
const { model, specs } = composite();
const { model: sw } = buildSwitchableModel(model, specs, { flavor: 'qdq', overridable: ['W1'] });
for (const b of ['native', 'wasm'] as const) {
  const r = await Runner.create(b);
  const s = await r.session(sw);
  console.log(b, s.inputNames);
}
