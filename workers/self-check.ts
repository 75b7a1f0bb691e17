// Test-only: "all quantizers off = FP32, bit for bit" inside the run worker, on the same engine
// wrapper (studioEngines: createEngine → GatedEngine), the same run opening (OpenedRun) and so the
// same ONNX backend sessions that a studio run evaluates with. Reached only through the `?test` page hook (src/app/lib/test-hooks.ts); the
// browser test tests/e2e/session-options.test.ts compares the raw outputs.
//
// Why it exists: the FP32 and switchable sessions are created with EXACT_SESSION_OPTIONS
// (graph level 'extended', no pre-packing); if the engine wrapper drops a session's options (as
// GatedEngine.createSession once did), onnxruntime-web optimises at level 'all' and, on the demo
// ResNet, the FP32 outputs and the all-off switchable outputs differ in their last bits — and
// AAQ's "all off = FP32" (and so its drop figures) no longer holds exactly.

import type { QuantState } from '../src/core/algorithms/backend';
import { OpenedRun } from '../src/core/run/open-run';
import type { TensorData } from '../src/core/types';
import { PauseGate, studioEngines } from './engine';
import type { EngineInfo, SelfCheckRequest, SelfCheckResult } from './protocol';
import { browserInputs } from './setup';

function concat(ts: (TensorData | Float32Array)[]): Float32Array {
  const parts = ts.map((t) => (t instanceof Float32Array ? t : (t.data as Float32Array)));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function selfCheck(req: SelfCheckRequest): Promise<SelfCheckResult> {
  // Opened as run-session.ts opens a run (same inputs, engine factory and backend options), with
  // mode 'switchable' so that the all-off state is evaluated on the run's switchable session.
  const inputs = await browserInputs(req.configText, req.model.name, req.model.bytes, req.data);
  let info: EngineInfo | undefined;
  const engines = studioEngines('wasm', req.threads ?? 2, new PauseGate(), (i) => (info = i));
  const run = await OpenedRun.open(inputs, { engines, settings: { batchSize: req.batchSize ?? 16, mode: 'switchable' } });
  try {
    const { backend, engine } = run;
    const idxs = Array.from({ length: Math.min(req.samples ?? 32, inputs.dataset.size) }, (_, i) => i);
    const fp32 = await backend.sessions.run(null, idxs);
    const off: QuantState = { params: inputs.params, enabled: [], quantizers: {}, biases: {} };
    const allOff = await backend.sessions.run(off, idxs);
    const samples = await Promise.all(idxs.map(async (i) => (await inputs.dataset.get(i)).input));
    return {
      engine: engine.label,
      threads: info?.threads ?? 0,
      crossOriginIsolated: self.crossOriginIsolated,
      samples: idxs.length,
      sampleShape: inputs.dataset.sampleShape,
      outputName: backend.outputName,
      outputDims: fp32.outputs[0]?.dims ?? [],
      quantizers: backend.quantizerSpecs().length,
      sessions: engine.sessionsCreated,
      inputs: concat(samples),
      fp32: concat(fp32.outputs),
      allOff: concat(allOff.outputs),
    };
  } finally {
    await run.dispose();
  }
}
