// Helpers shared by the engine tests: fixture models, a seeded in-memory dataset, tiny models.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import type { Dataset, Sample, TensorData } from '../../src/core/types';

const onnx = onnxProto.onnx;

export const FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url));

export interface FixtureModel {
  file: string;
  input: string;
  output: string;
  sampleShape: number[];
  classes: number;
}

export const MODELS: FixtureModel[] = [
  { file: 'fmnist-cnn.onnx', input: 'input', output: 'logits', sampleShape: [1, 28, 28], classes: 10 },
  { file: 'fmnist-resnet.onnx', input: 'input', output: 'logits', sampleShape: [1, 28, 28], classes: 10 },
  { file: 'fmnist-mobilenet.onnx', input: 'input', output: 'logits', sampleShape: [1, 28, 28], classes: 10 },
  // PaddleOCR text-direction classifier: dynamic N, H, W; fed 48×192.
  { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', input: 'x', output: 'softmax_0.tmp_0', sampleShape: [3, 48, 192], classes: 2 },
];

export function loadFixture(file: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURES + file));
}

/** mulberry32 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A lazily generated dataset of normal-ish random samples (deterministic per index). */
export class RandomDataset implements Dataset {
  readonly hasLabels = true;
  gets = 0;
  constructor(
    readonly size: number,
    readonly sampleShape: number[],
    private readonly seed = 1,
    private readonly delayMs = 0,
  ) {}
  async fingerprint(): Promise<string> {
    return `random-${this.seed}-${this.size}-${this.sampleShape.join('x')}`;
  }
  async get(index: number): Promise<Sample> {
    if (index < 0 || index >= this.size) throw new RangeError(`index ${index}`);
    this.gets++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const n = this.sampleShape.reduce((a, b) => a * b, 1);
    const r = rng(this.seed * 100_003 + index);
    const input = new Float32Array(n);
    for (let i = 0; i < n; i++) input[i] = (r() + r() + r() - 1.5) * 2;
    return { input, label: index % 10 };
  }
}

export function maxAbsDiff(a: TensorData, b: TensorData): number {
  if (a.data.length !== b.data.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return m;
}

// ---------------------------------------------------------------------------------------------
// Tiny hand-built models

type Dim = number | string;
const F = onnx.TensorProto.DataType;

function vi(name: string, elemType: number, dims: Dim[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function model(nodes: object[], inputs: object[], outputs: object[], initializers: object[] = []): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: 'aaq-tests',
      graph: { name: 'g', node: nodes, input: inputs, output: outputs, initializer: initializers } as never,
    }),
  ).finish();
}

/** x float32 [N,4] → neg (float32), relu (float32), i64 (int64, Cast), pos (bool, x > 0),
 *  half (float16, Cast), and b (bool input) passed through Not → notb. */
export function multiOutputModel(): Uint8Array {
  const zero = { name: 'zero', dataType: F.FLOAT, dims: [], floatData: [0] };
  return model(
    [
      { opType: 'Neg', input: ['x'], output: ['neg'], name: 'neg' },
      { opType: 'Relu', input: ['x'], output: ['relu'], name: 'relu' },
      { opType: 'Cast', input: ['x'], output: ['i64'], name: 'cast64', attribute: [{ name: 'to', type: 2, i: F.INT64 }] },
      { opType: 'Greater', input: ['x', 'zero'], output: ['pos'], name: 'gt' },
      { opType: 'Cast', input: ['x'], output: ['half'], name: 'cast16', attribute: [{ name: 'to', type: 2, i: F.FLOAT16 }] },
      { opType: 'Not', input: ['b'], output: ['notb'], name: 'not' },
    ],
    [vi('x', F.FLOAT, ['N', 4]), vi('b', F.BOOL, [2])],
    [
      vi('neg', F.FLOAT, ['N', 4]),
      vi('relu', F.FLOAT, ['N', 4]),
      vi('i64', F.INT64, ['N', 4]),
      vi('pos', F.BOOL, ['N', 4]),
      vi('half', F.FLOAT16, ['N', 4]),
      vi('notb', F.BOOL, [2]),
    ],
    [zero],
  );
}

/** y = x * 2 with input dims `inDims` ([3,4] fixed batch, ['N',4] dynamic). */
export function doubleModel(inDims: Dim[]): Uint8Array {
  const two = { name: 'two', dataType: F.FLOAT, dims: [], floatData: [2] };
  return model([{ opType: 'Mul', input: ['x', 'two'], output: ['y'], name: 'mul' }], [vi('x', F.FLOAT, inDims)], [vi('y', F.FLOAT, inDims)], [two]);
}

/** Declares a free batch dim but hard-codes batch 1 in a Reshape: fails for batch > 1. */
export function liarModel(): Uint8Array {
  const shape = { name: 'shape', dataType: F.INT64, dims: [2], int64Data: [1, 4] };
  return model([{ opType: 'Reshape', input: ['x', 'shape'], output: ['y'], name: 'reshape' }], [vi('x', F.FLOAT, ['N', 4])], [vi('y', F.FLOAT, ['N', 4])], [shape]);
}
