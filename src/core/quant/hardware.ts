// POT's CPU hardware rules (configs/hardware/cpu.json, graph/special_operations.py) in ONNX op names.

/** Ops with activation quantizers on their inputs and weight quantizers on constant weights. */
export const WEIGHTED_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

/** Eltwise ops: activation quantizers on every non-constant input. */
export const ELTWISE_OPS = new Set(['Add', 'Mul', 'Sub', 'Div', 'Max', 'Min', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Equal', 'Mod', 'Or', 'Xor', 'And', 'Not']);

/** Ops with an activation quantizer on their data input only. */
export const ACTIVATION_ONLY_OPS = new Set(['Pow', 'AveragePool', 'GlobalAveragePool', 'LpNormalization', 'ReduceMean', 'Resize', 'Upsample', 'MeanVarianceNormalization']);

/** Quantize-agnostic ops: quantizers propagate up through them (data input = input 0). */
export const AGNOSTIC_OPS = new Set([
  'MaxPool',
  'GlobalMaxPool',
  'ReduceMax',
  'Reshape',
  'Concat',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Split',
  'Slice',
  'Transpose',
  'Tile',
  'Expand',
  'Pad',
  'Gather',
  'DepthToSpace',
  'SpaceToDepth',
  'Identity',
]);

/** POT / OpenVINO op type names accepted in `ignored.operations`, mapped to ONNX. */
export const POT_TO_ONNX: Record<string, string[]> = {
  Convolution: ['Conv'],
  GroupConvolution: ['Conv'],
  ConvolutionBackpropData: ['ConvTranspose'],
  GroupConvolutionBackpropData: ['ConvTranspose'],
  MatMul: ['MatMul', 'Gemm'],
  Add: ['Add'],
  Multiply: ['Mul'],
  Subtract: ['Sub'],
  Divide: ['Div'],
  Maximum: ['Max'],
  Minimum: ['Min'],
  Power: ['Pow'],
  AvgPool: ['AveragePool', 'GlobalAveragePool'],
  ReduceMean: ['ReduceMean', 'GlobalAveragePool'],
  Interpolate: ['Resize', 'Upsample'],
  MVN: ['MeanVarianceNormalization'],
  NormalizeL2: ['LpNormalization'],
  Squeeze: ['Squeeze'],
  SquaredDifference: [],
  Concat: ['Concat'],
  Less: ['Less'],
  LessEqual: ['LessOrEqual'],
  Greater: ['Greater'],
  GreaterEqual: ['GreaterOrEqual'],
  Equal: ['Equal'],
  FloorMod: ['Mod'],
  LogicalOr: ['Or'],
  LogicalXor: ['Xor'],
  LogicalAnd: ['And'],
  LogicalNot: ['Not'],
};

/** `model_type: transformer` appends these POT types to the ignored operations (Multiply except on CPU_SPR). */
export const TRANSFORMER_IGNORED = ['Add', 'Power', 'Squeeze', 'Subtract', 'ReduceMean', 'SquaredDifference', 'MVN'];

export const isQuantizableOp = (op: string): boolean => WEIGHTED_OPS.has(op) || ELTWISE_OPS.has(op) || ACTIVATION_ONLY_OPS.has(op);
