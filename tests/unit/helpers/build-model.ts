// Build small ONNX models by hand for unit tests.
import { onnx, type ModelProto } from '../../../src/core/onnx/proto';
import { makeTensor } from '../../../src/core/onnx/tensor';
import type { AttributeProto } from '../../../src/core/onnx/proto';

export interface NodeSpec {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs?: AttributeProto[];
}

const vi = (name: string, dims: number[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });

/** Deterministic pseudo-random weights. */
export function weights(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 0.5;
  }
  return out;
}

export function buildModel(opts: {
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  nodes: NodeSpec[];
  initializers?: Record<string, number[]>;
  opset?: number;
}): ModelProto {
  let seed = 1;
  const inits = Object.entries(opts.initializers ?? {}).map(([name, dims]) =>
    makeTensor(
      name,
      'float32',
      dims,
      weights(
        dims.reduce((a, b) => a * b, 1),
        seed++,
      ),
    ),
  );
  return onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: opts.opset ?? 13 }],
    graph: {
      name: 'test',
      node: opts.nodes.map((n) => ({ opType: n.op, name: n.name, input: n.inputs, output: n.outputs, attribute: n.attrs ?? [] })),
      input: Object.entries(opts.inputs).map(([n, d]) => vi(n, d)),
      output: Object.entries(opts.outputs).map(([n, d]) => vi(n, d)),
      initializer: inits,
    },
  });
}
