// Read and write node attributes.
import { AttrType, onnx, toNum, type AttributeProto, type NodeProto, type TensorProto } from './proto';

export function findAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a ? toNum(a.i) : dflt;
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = findAttr(node, name);
  return a && a.f != null ? a.f : dflt;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = findAttr(node, name);
  return a ? (a.ints ?? []).map(toNum) : undefined;
}

export function attrString(node: NodeProto, name: string): string | undefined {
  const a = findAttr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

export function setAttr(node: NodeProto, attr: AttributeProto): void {
  const list = (node.attribute ?? []).filter((a) => a.name !== attr.name);
  list.push(onnx.AttributeProto.create(attr));
  node.attribute = list;
}

export const intAttr = (name: string, i: number): AttributeProto => ({ name, type: AttrType.INT, i });
export const floatAttr = (name: string, f: number): AttributeProto => ({ name, type: AttrType.FLOAT, f });
export const intsAttr = (name: string, ints: number[]): AttributeProto => ({ name, type: AttrType.INTS, ints });
export const tensorAttr = (name: string, t: TensorProto): AttributeProto => ({ name, type: AttrType.TENSOR, t });
