// Issue 12: target_device ONNXRUNTIME on the zoo models — the exported QDQ model runs in
// onnxruntime-node, onnxruntime fuses it into integer kernels (counted in the graph it optimizes,
// optimizedModelFilePath), and its accuracy, measured on the exported file with onnxruntime's
// default options, is within 0.3 % of POT's placement (target_device ANY), both measured here.
// revert_mode: each mode's AAQ export runs, and INT8_WEIGHTS keeps the weights quantized.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'jsonc-parser';
import type { DefaultQuantizationParams } from '../../src/core/config/types';
import { OnnxQuantizationBackend } from '../../src/core/evaluation/onnx-backend';
import { decodeModel, encodeModel } from '../../src/core/onnx/proto';
import { createNodeEngine } from '../../src/node/engines';
import { prepareRun } from '../../src/node/run-setup';
import { readReport, runCli, tempDir } from './cli-helpers';

const ROOT = resolve(__dirname, '../..');
const BENCH = join(ROOT, 'bench/configs');

/** Op counts of the graph onnxruntime-node (default options) optimizes the model into. */
async function optimizedOps(bytes: Uint8Array): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'aaq-opt-'));
  const file = join(dir, 'o.onnx');
  try {
    const engine = await createNodeEngine('native', { sessionOptions: { optimizedModelFilePath: file } as never });
    await engine.release(await engine.createSession(bytes));
    await engine.dispose();
    const ops: Record<string, number> = {};
    for (const n of decodeModel(readFileSync(file)).graph!.node ?? []) ops[n.opType!] = (ops[n.opType!] ?? 0) + 1;
    return ops;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ONNXRUNTIME placement: fused by onnxruntime, accuracy within 0.3 % of POT placement', () => {
  for (const name of ['fmnist-cnn', 'fmnist-resnet', 'fmnist-mobilenet', 'ppocr-cls']) {
    it(
      name,
      async () => {
        const setup = await prepareRun({ config: join(BENCH, `${name}.json`) });
        const { engine, model, dataset } = setup;
        const acc: Record<string, number> = {};
        const qlinearConv: Record<string, number> = {};
        let convOps = 0;
        try {
          for (const target of ['ANY', 'ONNXRUNTIME'] as const) {
            const params = { ...(setup.algorithm.params as DefaultQuantizationParams), target_device: target };
            const be = new OnnxQuantizationBackend({ engine, model, dataset, metrics: setup.metrics, placementParams: params, batchSize: 16 });
            const bytes = encodeModel(be.exportModel(await be.quantize(params)));
            if (target === 'ONNXRUNTIME') convOps = be.placement.ops.filter((o) => be.idx.nodes[be.idx.nodeByName.get(o)!].opType === 'Conv').length;
            await be.dispose();
            // the exported file, as onnxruntime-node runs it by default
            const dir = tempDir();
            const file = join(dir, 'q.onnx');
            writeFileSync(file, bytes);
            const q = await prepareRun({ config: join(BENCH, `${name}.json`), model: file });
            const preds = await q.backend.predictions(null, null);
            let right = 0;
            for (let i = 0; i < preds.length; i++) if (preds[i] === (await dataset.get(i)).label) right++;
            acc[target] = right / preds.length;
            await q.backend.dispose();
            await q.engine.dispose();
            const ops = await optimizedOps(bytes);
            qlinearConv[target] = ops.QLinearConv ?? 0;
            if (target === 'ONNXRUNTIME') {
              // every Conv of the placement became a QLinearConv, no float Conv is left (DequantizeLinear stays before ops without integer kernels)
              expect(ops.QLinearConv).toBe(convOps);
              expect(ops.Conv ?? 0).toBe(0);
            }
          }
        } finally {
          await setup.backend.dispose();
          await engine.dispose();
        }
        console.log(`${name}: top-1 of the export, ANY ${acc.ANY}, ONNXRUNTIME ${acc.ONNXRUNTIME}; QLinearConv ${qlinearConv.ANY} → ${qlinearConv.ONNXRUNTIME}`);
        expect(acc.ONNXRUNTIME).toBeGreaterThanOrEqual(acc.ANY - 0.003);
        expect(qlinearConv.ONNXRUNTIME).toBeGreaterThanOrEqual(qlinearConv.ANY);
      },
      300_000,
    );
  }
});

describe('revert_mode: AAQ on PaddleOCR reverts in the chosen mode, each export runs in onnxruntime-node', () => {
  it('FP32 and INT8_WEIGHTS', async () => {
    const dir = tempDir();
    const base = parse(readFileSync(join(BENCH, 'ppocr-cls.json'), 'utf8'));
    base.model.model = join(ROOT, 'tests/fixtures/models/ch_ppocr_mobile_v2.0_cls_infer.onnx');
    base.engine.dataset.data_source = join(ROOT, 'bench/data/ocr-100');
    const out: Record<string, { size: number; acc: number; reverted: number; enabled: number; total: number; final: number; weightsOn: boolean }> = {};
    for (const mode of ['FP32', 'INT8_WEIGHTS']) {
      const cfg = structuredClone(base);
      cfg.compression.algorithms[0].params = { ...cfg.compression.algorithms[0].params, revert_mode: mode };
      const cfgPath = join(dir, `${mode}.json`);
      writeFileSync(cfgPath, JSON.stringify(cfg));
      const q = join(dir, `${mode}.onnx`);
      const rep = join(dir, `${mode}.json.report`);
      const r = await runCli(['quantize', '-q', '-c', cfgPath, '-o', q, '-r', rep]);
      expect(r.code, r.stderr).toBe(0);
      const report = readReport(rep);
      const e = await runCli(['eval', '-q', '-c', cfgPath, '--model', q]);
      expect(e.code, e.stderr).toBe(0);
      // the report's state: with INT8_WEIGHTS every weight quantizer is still on
      const setup = await prepareRun({ config: cfgPath });
      const weights = setup.backend.placement.quantizers.filter((s) => s.kind === 'weight').map((s) => s.id);
      await setup.backend.dispose();
      await setup.engine.dispose();
      const dq = decodeModel(readFileSync(q)).graph!.node!.filter((n) => n.opType === 'DequantizeLinear' && (n.input![0] ?? '').endsWith('_quantized')).length;
      out[mode] = {
        size: statSync(q).size,
        acc: JSON.parse(e.stdout).metrics['accuracy@top1'],
        reverted: report.reverted.length,
        enabled: report.quantizers.enabled,
        total: report.quantizers.total,
        final: report.final.metrics['accuracy@top1'],
        weightsOn: dq === weights.length,
      };
    }
    console.log(`PaddleOCR revert modes: ${JSON.stringify(out)}`);
    expect(out.FP32.reverted).toBeGreaterThan(0);
    expect(out.INT8_WEIGHTS.reverted).toBeGreaterThan(0);
    expect(out.INT8_WEIGHTS.weightsOn).toBe(true);
    expect(out.FP32.weightsOn).toBe(false);
    // the same target, and the INT8-weights export is the smaller file (its reverted weights stay 8-bit)
    expect(out.INT8_WEIGHTS.size).toBeLessThan(out.FP32.size);
    for (const m of Object.values(out)) expect(m.acc).toBeGreaterThan(0.5);
  }, 600_000);
});
