// Element types of graph tensors where the model does not declare them: read from initializers,
// graph inputs/outputs and value_info, otherwise followed back through the producing node for the
// ops whose output type is fixed or equals one of their inputs' types. Enough to tell float32
// activations from the rest; `undefined` means "not known".
import { attrInt, findAttr } from './attributes';
import type { GraphIndex } from './graph';
import { DataType } from './proto';

/** Ops whose first output has the element type of their input `k` (default 0). */
const SAME_AS_INPUT: Record<string, number> = Object.fromEntries([
  ...['Abs', 'Acos', 'Acosh', 'Add', 'Asin', 'Asinh', 'Atan', 'Atanh', 'AveragePool', 'BatchNormalization', 'Ceil', 'Celu',
    'Clip', 'Concat', 'Conv', 'ConvTranspose', 'Cos', 'Cosh', 'CumSum', 'DepthToSpace', 'Div', 'Dropout', 'Einsum', 'Elu',
    'Erf', 'Exp', 'Expand', 'Flatten', 'Floor', 'Gather', 'GatherElements', 'GatherND', 'Gemm', 'GlobalAveragePool',
    'GlobalLpPool', 'GlobalMaxPool', 'HardSigmoid', 'HardSwish', 'Hardmax', 'Identity', 'InstanceNormalization', 'LRN',
    'LayerNormalization', 'LeakyRelu', 'Log', 'LogSoftmax', 'LpNormalization', 'LpPool', 'MatMul', 'Max', 'MaxPool',
    'MaxRoiPool', 'MaxUnpool', 'Mean', 'MeanVarianceNormalization', 'Min', 'Mish', 'Mod', 'Mul', 'Neg', 'PRelu', 'Pad',
    'Pow', 'Reciprocal', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean',
    'ReduceMin', 'ReduceProd', 'ReduceSum', 'ReduceSumSquare', 'Relu', 'Reshape', 'Resize', 'ReverseSequence', 'RoiAlign',
    'Round', 'ScatterElements', 'ScatterND', 'Scatter', 'Selu', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Slice',
    'Softmax', 'Softplus', 'Softsign', 'SpaceToDepth', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Sum', 'Tan', 'Tanh',
    'ThresholdedRelu', 'Tile', 'TopK', 'Transpose', 'Trilu', 'Unsqueeze', 'Upsample', 'GroupNormalization',
    'Compress', 'Col2Im', 'CenterCropPad', 'GridSample', 'AffineGrid'].map((op) => [op, 0] as const),
  ['Where', 1],
]);

const BOOL_OUT = new Set(['Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OUT = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression']);

/** ONNX element type code of `tensor`, or undefined when it cannot be told. */
export function elemTypeOf(idx: GraphIndex, tensor: string, memo = new Map<string, number | undefined>()): number | undefined {
  if (memo.has(tensor)) return memo.get(tensor);
  memo.set(tensor, undefined); // cycle guard
  const t = resolve(idx, tensor, memo);
  memo.set(tensor, t);
  return t;
}

function resolve(idx: GraphIndex, tensor: string, memo: Map<string, number | undefined>): number | undefined {
  const init = idx.initializers.get(tensor);
  if (init) return init.dataType ?? undefined;
  const declared = idx.valueInfo.get(tensor)?.type?.tensorType?.elemType;
  if (declared) return declared;
  const node = idx.producerNode(tensor);
  if (!node || (node.domain && node.domain !== 'ai.onnx')) return undefined;
  const op = node.opType ?? '';
  const outIndex = (node.output ?? []).indexOf(tensor);
  if (op === 'Cast') return attrInt(node, 'to', 0) || undefined;
  if (op === 'CastLike') return elemTypeOf(idx, node.input?.[1] ?? '', memo);
  if (op === 'DequantizeLinear') return DataType.FLOAT;
  if (op === 'QuantizeLinear') return node.input?.[2] ? elemTypeOf(idx, node.input[2], memo) : DataType.UINT8;
  if (op === 'ConstantOfShape') {
    const v = findAttr(node, 'value')?.t;
    return v ? v.dataType ?? DataType.FLOAT : DataType.FLOAT;
  }
  if (op === 'Constant') {
    const a = (node.attribute ?? [])[0];
    if (a?.t) return a.t.dataType ?? undefined;
    if (a?.name === 'value_float' || a?.name === 'value_floats') return DataType.FLOAT;
    if (a?.name === 'value_int' || a?.name === 'value_ints') return DataType.INT64;
    return undefined;
  }
  if (BOOL_OUT.has(op)) return DataType.BOOL;
  if (INT64_OUT.has(op)) return DataType.INT64;
  if ((op === 'MaxPool' || op === 'TopK') && outIndex === 1) return DataType.INT64;
  if (op === 'Dropout' && outIndex === 1) return DataType.BOOL;
  if (op === 'Range') return elemTypeOf(idx, node.input?.[0] ?? '', memo);
  const k = SAME_AS_INPUT[op];
  if (k !== undefined && outIndex >= 0) {
    if (op === 'Split' || op === 'TopK' || op === 'MaxPool' || op === 'Dropout' || outIndex === 0) {
      return elemTypeOf(idx, node.input?.[k] ?? '', memo);
    }
  }
  return undefined;
}

export const isFloat32 = (code: number | undefined): boolean => code === DataType.FLOAT;
