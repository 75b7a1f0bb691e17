// Element types of every tensor in the main graph, propagated in topological order.
// Enough to tell float activations (quantizable) from shape/index tensors (not quantizable).
import { attrInt } from './attributes';
import type { GraphIndex } from './graph';
import { DataType } from './proto';

const INT64_OUT = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'NonMaxSuppression']);
const BOOL_OUT = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

/** Map tensor name → ONNX DataType code (0 when unknown). */
export function elementTypes(idx: GraphIndex): Map<string, number> {
  const types = new Map<string, number>();
  for (const [name, t] of idx.initializers) types.set(name, t.dataType ?? 0);
  for (const [name, v] of idx.valueInfo) {
    const et = v.type?.tensorType?.elemType;
    if (et) types.set(name, et);
  }
  for (const i of idx.order) {
    const n = idx.nodes[i];
    const op = n.opType ?? '';
    let t = 0;
    if (INT64_OUT.has(op)) t = DataType.INT64;
    else if (BOOL_OUT.has(op)) t = DataType.BOOL;
    else if (op === 'Cast') t = attrInt(n, 'to', 0);
    else if (op === 'ConstantOfShape') t = DataType.FLOAT;
    else if (op === 'Where') t = types.get(n.input?.[1] ?? '') ?? 0;
    else if (op === 'QuantizeLinear') t = types.get(n.input?.[2] ?? '') ?? DataType.UINT8;
    else if (op === 'DequantizeLinear') t = DataType.FLOAT;
    else t = types.get(n.input?.[0] ?? '') ?? 0;
    for (const o of n.output ?? []) if (o && !types.has(o)) types.set(o, t);
  }
  return types;
}
