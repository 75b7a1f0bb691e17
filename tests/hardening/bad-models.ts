// Bad models, generated from the fixture fmnist-cnn.onnx (plus the two corpus files).
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeModel, encodeModel, MAX_MODEL_BYTES, onnx, type ModelProto } from '../../src/core/onnx/proto';
import { encodeNpy, parseNpy } from '../../src/core/data/npy';
import { BAD, CNN, IMG40, X40, baseConfig, writeJson } from './cli-harness';

export interface BadCase {
  name: string;
  /** Builds the case's files in `dir`; returns the CLI arguments (after `quantize -q -o … -r …`)
   *  and the names (file base name, field) of which the message must contain one. */
  make(dir: string): { args: string[]; names: string[] };
  /** Run as a child process instead of in-process. */
  child?: boolean;
}

const cnnBytes = () => new Uint8Array(readFileSync(CNN));
const cnn = (): ModelProto => decodeModel(cnnBytes(), CNN);

/** Deterministic pseudo-random bytes. */
export function prngBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

/** A case whose model file has `bytes` (or is the mutated fixture model). */
function modelCase(name: string, file: string, bytes: () => Uint8Array, extraNames: string[] = [], child = false): BadCase {
  return {
    name,
    child,
    make(dir) {
      const p = join(dir, file);
      writeFileSync(p, bytes());
      return { args: ['-c', writeJson(join(dir, 'config.json'), baseConfig({ model: p }))], names: [file, ...extraNames] };
    },
  };
}

function mutated(name: string, edit: (m: ModelProto) => void, names: string[] = []): BadCase {
  return modelCase(
    name,
    `${name}.onnx`,
    () => {
      const m = cnn();
      edit(m);
      return encodeModel(m);
    },
    names,
  );
}

const firstPng = (): string => {
  const d = join(IMG40, readdirSync(IMG40).sort()[0]);
  return join(d, readdirSync(d).sort()[0]);
};

/** Every input dim symbolic, fed float data of `shape`: a 4-D input cannot be resolved from
 *  [N, 784]; [N, 1, 20, 20] resolves to a size the rest of the network cannot take. */
function dynamicCase(name: string, shape: number[], names: string[]): BadCase {
  return {
    name,
    make(dir) {
      const m = cnn();
      m.graph!.input![0].type!.tensorType!.shape = { dim: ['N', 'C', 'H', 'W'].map((d) => ({ dimParam: d })) };
      const p = join(dir, 'dynamic.onnx');
      writeFileSync(p, encodeModel(m));
      const x = parseNpy(new Uint8Array(readFileSync(X40)));
      const n = shape.reduce((a, b) => a * b, 1);
      const data = join(dir, 'flat.npy');
      writeFileSync(data, encodeNpy({ dtype: 'f4', shape, data: Float32Array.from((x.data as Uint8Array).subarray(0, n)) }));
      return { args: ['-c', writeJson(join(dir, 'config.json'), baseConfig({ model: p, data, dataset: { preprocessing: [] } }))], names };
    },
  };
}

export const badModelCases: BadCase[] = [
  modelCase('truncated .onnx (half)', 'half.onnx', () => cnnBytes().subarray(0, cnnBytes().length >> 1)),
  modelCase('truncated .onnx (7 bytes)', 'seven.onnx', () => cnnBytes().subarray(0, 7)),
  modelCase('random bytes .onnx', 'random.onnx', () => prngBytes(4096, 7)),
  modelCase('random bytes .onnx (2)', 'random2.onnx', () => prngBytes(100_000, 2024)),
  modelCase('empty .onnx', 'empty.onnx', () => new Uint8Array(0)),
  modelCase('CSV renamed .onnx (corpus)', 'not-a-model.onnx', () => new Uint8Array(readFileSync(join(BAD, 'not-a-model.onnx')))),
  modelCase('PNG renamed .onnx', 'picture.onnx', () => new Uint8Array(readFileSync(firstPng()))),
  modelCase('ONNX tensor (not a model) renamed .onnx', 'tensor.onnx', () => onnx.TensorProto.encode(cnn().graph!.initializer![0]).finish()),
  mutated(
    'external-data',
    (m) => {
      const t = m.graph!.initializer![0];
      t.rawData = new Uint8Array(0);
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: 'weights.bin' })];
    },
    ['external'],
  ),
  mutated(
    'custom-domain-op',
    (m) => {
      const n = m.graph!.node!.find((x) => x.opType === 'Relu')!;
      n.opType = 'FancyRelu';
      n.domain = 'com.example';
      m.opsetImport = [...m.opsetImport, onnx.OperatorSetIdProto.create({ domain: 'com.example', version: 1 })];
    },
    ['FancyRelu'],
  ),
  mutated(
    'unknown-op',
    (m) => {
      m.graph!.node!.find((x) => x.opType === 'Relu')!.opType = 'NotAnOp';
    },
    ['NotAnOp'],
  ),
  mutated(
    'no-inputs',
    (m) => {
      m.graph!.input = [];
    },
    ['graph.input'],
  ),
  mutated(
    'input-without-shape',
    (m) => {
      m.graph!.input![0].type!.tensorType!.shape = null;
    },
    ['input'],
  ),
  mutated(
    'input-rank-1',
    (m) => {
      m.graph!.input![0].type!.tensorType!.shape = { dim: [{ dimParam: 'N' }] };
    },
    ['input'],
  ),
  dynamicCase('input-all-dynamic, data [N, 784]', [40, 784], ['flat.npy', '?×?×?']),
  dynamicCase('input-all-dynamic, data 20×20', [40, 1, 20, 20], ['dynamic.onnx', 'flat.npy', '1, 20, 20']),
  mutated(
    'input-uint8',
    (m) => {
      m.graph!.input![0].type!.tensorType!.elemType = onnx.TensorProto.DataType.UINT8;
    },
    ['input'],
  ),
  mutated(
    'opset-3',
    (m) => {
      m.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: 3 })];
    },
    ['opset'],
  ),
  mutated(
    'cycle',
    (m) => {
      const nodes = m.graph!.node!;
      nodes[0].input = [nodes[nodes.length - 2].output![0], ...nodes[0].input!.slice(1)];
    },
    ['cycle'],
  ),
  mutated(
    'output-not-classifier',
    (m) => {
      const conv = m.graph!.node!.find((x) => x.opType === 'Conv')!;
      m.graph!.output = [onnx.ValueInfoProto.create({ name: conv.output![0], type: { tensorType: { elemType: 1 } } })];
    },
    ['Conv_output_0', '[1, 16, 28, 28]'],
  ),
  {
    name: 'model over the size limit (sparse file)',
    make(dir) {
      const p = join(dir, 'huge.onnx');
      const fd = openSync(p, 'w');
      ftruncateSync(fd, MAX_MODEL_BYTES + 1); // sparse: takes no disk space
      closeSync(fd);
      return { args: ['-c', writeJson(join(dir, 'config.json'), baseConfig({ model: p }))], names: ['huge.onnx'] };
    },
  },
  {
    name: 'model path is a folder',
    make(dir) {
      const p = join(dir, 'model.onnx');
      mkdirSync(p);
      return { args: ['-c', writeJson(join(dir, 'config.json'), baseConfig({ model: p }))], names: ['model.onnx'] };
    },
  },
  {
    name: '--model names a missing file',
    make(dir) {
      return { args: ['-c', writeJson(join(dir, 'config.json'), baseConfig()), '--model', join(dir, 'missing.onnx')], names: ['missing.onnx'] };
    },
  },
];
