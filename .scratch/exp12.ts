import { onnx } from '../src/core/onnx/proto';
const a = onnx.AttributeProto.create({ name: 'ends', type: 7, ints: ['9223372036854775807' as any, -3] });
const b = onnx.AttributeProto.decode(onnx.AttributeProto.encode(a).finish());
console.log(b.ints, String(b.ints[0]), typeof b.ints[0]);
