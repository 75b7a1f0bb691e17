// target_device ONNXRUNTIME: the placement for onnxruntime's QDQ selectors (src/core/quant/placement-ort.ts)
// on the zoo models — which nodes get Q/DQ — and ANY/CPU keeping POT's placement.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDqParams } from '../../src/core/config/defaults';
import { GraphIndex } from '../../src/core/onnx/graph';
import { normalizeModel } from '../../src/core/onnx/normalize';
import { decodeModel } from '../../src/core/onnx/proto';
import { keepWithin } from '../../src/core/quant/onnx-quantizer';
import { analyzePlacement, analyzePotPlacement } from '../../src/core/quant/placement';
import { ORT_INTEGER_OPS, clipBounds } from '../../src/core/quant/placement-ort';

const MODELS = join(__dirname, '../fixtures/models');
const load = (f: string) => new GraphIndex(normalizeModel(decodeModel(readFileSync(join(MODELS, f)))).model);
const ort = { ...defaultDqParams('ONNXRUNTIME') };

describe('ONNXRUNTIME placement on the zoo models', () => {
  for (const f of ['fmnist-cnn.onnx', 'fmnist-resnet.onnx', 'fmnist-mobilenet.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx']) {
    it(`${f}: per-tensor activations, every Conv on integers, Q/DQ only next to integer ops`, () => {
      const idx = load(f);
      const p = analyzePlacement(idx, ort);
      const ops = new Set(p.ops);
      const node = (name: string) => idx.nodes[idx.nodeByName.get(name)!];
      const acts = p.quantizers.filter((q) => q.kind === 'activation');
      expect(acts.length).toBeGreaterThan(0);
      for (const q of acts) expect(q.granularity, q.id).toBe('pertensor');
      // every Conv with a constant weight whose output is not a graph output runs on integers
      const convs = idx.nodes.filter((n) => n.opType === 'Conv' && idx.isConstant(n.input![1]) && !idx.outputs.includes(n.output![0]));
      for (const c of convs) expect(ops.has(c.name!), c.name!).toBe(true);
      for (const o of p.ops) expect(Object.keys(ORT_INTEGER_OPS)).toContain(node(o).opType);
      // each activation quantizer is an integer op's input (through MaxPool/Reshape/Flatten…) or its output (after Relu/Clip)
      const producerIsInteger = (t: string): boolean => {
        const prod = idx.producerNode(t);
        if (!prod) return false;
        if (ops.has(prod.name!)) return true;
        return ['Relu', 'Clip'].includes(prod.opType!) && ops.has(idx.producerNode(prod.input![0])?.name ?? '');
      };
      const readByInteger = (t: string): boolean =>
        idx.usesOf(t).some((u) => {
          const n = idx.nodes[u.node];
          return ops.has(n.name!) || (['MaxPool', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Slice'].includes(n.opType!) && readByInteger(n.output![0]));
        });
      for (const q of acts) expect(producerIsInteger(q.tensor) || readByInteger(q.tensor), q.id).toBe(true);
      // an integer op that needs a Q after it has one, and it reads every use of its output
      for (const o of p.ops) {
        const n = node(o);
        if (!ORT_INTEGER_OPS[n.opType!].outputQ) continue;
        let t = n.output![0];
        const next = idx.usesOf(t).length === 1 ? idx.nodes[idx.usesOf(t)[0].node] : undefined;
        if (next && (next.opType === 'Relu' || (next.opType === 'Clip' && clipBounds(next, idx)?.[0] === 0))) t = next.output![0];
        const q = acts.find((a) => a.tensor === t);
        expect(q, `${o} (${n.opType}) output`).toBeDefined();
        expect(q!.consumers.length).toBe(idx.usesOf(t).length);
        if (next?.opType === 'Clip' && t === next.output![0]) expect(q!.within).toEqual([0, clipBounds(next, idx)![1]]);
      }
      // weights of integer ops only, per output channel
      for (const w of p.quantizers.filter((q) => q.kind === 'weight')) {
        for (const c of w.consumers) expect(ops.has(c.node)).toBe(true);
        if (w.granularity === 'perchannel') expect(w.channels).toBeGreaterThan(1);
      }
    });
  }

  it('fmnist-mobilenet: the depthwise inputs POT quantizes per channel are per tensor here, and nothing sits on HardSigmoid alone', () => {
    const idx = load('fmnist-mobilenet.onnx');
    const pot = analyzePlacement(idx, defaultDqParams('ANY'));
    const onnxrt = analyzePlacement(idx, ort);
    expect(pot.quantizers.some((q) => q.kind === 'activation' && q.granularity === 'perchannel')).toBe(true);
    expect(onnxrt.quantizers.some((q) => q.kind === 'activation' && q.granularity === 'perchannel')).toBe(false);
    const hs = idx.nodes.filter((n) => n.opType === 'HardSigmoid');
    expect(hs.length).toBeGreaterThan(0);
    for (const n of hs) expect(onnxrt.quantizers.some((q) => q.tensor === n.output![0])).toBe(false);
    // more ops run on integers than POT's placement lets onnxruntime fuse
    expect(onnxrt.ops.filter((o) => idx.nodes[idx.nodeByName.get(o)!].opType === 'Conv').length).toBe(idx.nodes.filter((n) => n.opType === 'Conv').length);
  });

  it('fmnist-resnet: Relu absorbed into the Conv output quantizer (unsigned grid, onnxruntime drops the Relu)', () => {
    const idx = load('fmnist-resnet.onnx');
    const p = analyzePlacement(idx, ort);
    const reluOuts = new Set(idx.nodes.filter((n) => n.opType === 'Relu').map((n) => n.output![0]));
    const convOuts = new Set(idx.nodes.filter((n) => n.opType === 'Conv').map((n) => n.output![0]));
    const onRelu = p.quantizers.filter((q) => reluOuts.has(q.tensor));
    expect(onRelu.length).toBeGreaterThan(0);
    for (const q of p.quantizers) if (convOuts.has(q.tensor)) expect(idx.usesOf(q.tensor).some((u) => idx.nodes[u.node].opType === 'Relu')).toBe(false);
  });

  it('ANY and CPU keep POT placement', () => {
    for (const f of ['fmnist-mobilenet.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx']) {
      const idx = load(f);
      for (const d of ['ANY', 'CPU'] as const) expect(analyzePlacement(idx, defaultDqParams(d))).toEqual(analyzePotPlacement(idx, defaultDqParams(d)));
      expect(analyzePlacement(idx, ort)).not.toEqual(analyzePotPlacement(idx, ort));
    }
  });
});

describe('keepWithin', () => {
  it('lowers the scale until scale·(qmax − zp) in float32 is within the Clip maximum', () => {
    const scale = Float32Array.of(Math.fround(6 / 255));
    const p = { scale, zeroPoint: Int32Array.of(0), qmin: 0, qmax: 255, dtype: 'uint8' as const, low: Float32Array.of(0), high: Float32Array.of(6) };
    const k = keepWithin(p, [0, 6]);
    expect(Math.fround(k.scale[0] * 255) - 6).toBeLessThanOrEqual(2 ** -23);
    expect(k.scale[0]).toBeLessThanOrEqual(scale[0]);
    expect(k.scale[0]).toBeGreaterThan(scale[0] * (1 - 1e-6));
    const wide = keepWithin({ ...p, scale: Float32Array.of(0.03) }, [0, 6]);
    expect(Math.fround(wide.scale[0] * 255)).toBeLessThanOrEqual(6 + 2 ** -23);
  });
});
