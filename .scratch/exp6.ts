import { readFileSync } from 'node:fs';
import { decodeModel, opsetVersion } from '../src/core/onnx/proto';
import { normalizeModel } from '../src/core/onnx/normalize';
import { upgradeOpset } from '../src/core/onnx/opset-upgrade';
import { verifyModel } from '../src/core/onnx/verify';
import { exportQdqModel } from '../src/core/quant/qdq-export';
import { Runner, placement, diff, f32, lcg, EXACT, QUIET } from '../tests/conformance/helpers';
const f = 'ch_ppocr_mobile_v2.0_cls_infer';
const m = normalizeModel(decodeModel(readFileSync(`tests/fixtures/models/${f}.onnx`))).model;
console.log('verify normalized', verifyModel(m));
const up = upgradeOpset(m, 13);
console.log(up.report);
const e = exportQdqModel(m, placement(m), {}, new Set(), {});
console.log('export opset', opsetVersion(e), verifyModel(e));
const r = await Runner.create('native');
const X = f32([2, 3, 48, 192], lcg(2 * 3 * 48 * 192, 3, 1));
for (const opt of [EXACT, QUIET]) {
  const a = await r.runModel(m, { x: X }, opt);
  const b = await r.runModel(e, { x: X }, opt);
  for (const k of Object.keys(a)) console.log(k, diff(a[k], b[k]));
}
