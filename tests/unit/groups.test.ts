import { describe, expect, it } from 'vitest';
import { GraphIndex } from '../../src/core/onnx/graph';
import { intAttr } from '../../src/core/onnx/attributes';
import { analyzePlacement } from '../../src/core/quant/placement';
import { GroupFinder } from '../../src/core/quant/groups';
import { parsePotConfig } from '../../src/core/config/parse';
import type { DefaultQuantizationParams } from '../../src/core/config/types';
import { buildModel } from './helpers/build-model';

function params(extra: Record<string, unknown> = {}): DefaultQuantizationParams {
  const text = JSON.stringify({
    model: { model: 'm.onnx' },
    engine: { dataset: { data_source: 'd/' } },
    compression: { algorithms: [{ name: 'DefaultQuantization', params: { preset: 'performance', ...extra } }] },
  });
  return parsePotConfig(text, 'test.json').config.compression.algorithms[0].params as DefaultQuantizationParams;
}

function analyse(model: ReturnType<typeof buildModel>, p = params()) {
  const idx = new GraphIndex(model);
  const placement = analyzePlacement(idx, p);
  const finder = new GroupFinder(idx, placement.quantizers, placement.ops);
  return { idx, placement, finder, ids: placement.quantizers.map((q) => q.id) };
}

describe('quantizer placement', () => {
  it('puts one activation quantizer on a tensor shared by two convs, weights per output channel', () => {
    const m = buildModel({
      inputs: { x: [1, 2, 4, 4] },
      outputs: { y1: [1, 3, 4, 4], y2: [1, 3, 4, 4] },
      initializers: { w1: [3, 2, 1, 1], w2: [3, 2, 1, 1] },
      nodes: [
        { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['r'] },
        { op: 'Conv', name: 'c1', inputs: ['r', 'w1'], outputs: ['y1'] },
        { op: 'Conv', name: 'c2', inputs: ['r', 'w2'], outputs: ['y2'] },
      ],
    });
    const { placement } = analyse(m);
    const act = placement.quantizers.filter((q) => q.kind === 'activation');
    expect(act.map((q) => q.id)).toEqual(['a:r']);
    expect(act[0].consumers).toEqual([
      { node: 'c1', input: 0 },
      { node: 'c2', input: 0 },
    ]);
    const w = placement.quantizers.filter((q) => q.kind === 'weight');
    expect(w.map((q) => [q.id, q.axis, q.channels, q.levels])).toEqual([
      ['w:w1', 0, 3, 255],
      ['w:w2', 0, 3, 255],
    ]);
  });

  it('propagates through MaxPool/Reshape and uses axis 1 for MatMul [K,N] and Gemm transB=0', () => {
    const m = buildModel({
      inputs: { x: [1, 4, 4, 4] },
      outputs: { y: [1, 5], z: [1, 6] },
      initializers: { wm: [16, 5], wg: [16, 6], shape: [2] },
      nodes: [
        { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['r'] },
        {
          op: 'MaxPool',
          name: 'pool',
          inputs: ['r'],
          outputs: ['p'],
          attrs: [
            { name: 'kernel_shape', type: 7, ints: [2, 2] },
            { name: 'strides', type: 7, ints: [2, 2] },
          ],
        },
        { op: 'Flatten', name: 'flat', inputs: ['p'], outputs: ['f'] },
        { op: 'MatMul', name: 'mm', inputs: ['f', 'wm'], outputs: ['y'] },
        { op: 'Gemm', name: 'gemm', inputs: ['x', 'wg'], outputs: ['z'], attrs: [intAttr('transB', 0)] },
      ],
    });
    const { placement } = analyse(m);
    const byId = Object.fromEntries(placement.quantizers.map((q) => [q.id, q]));
    expect(byId['a:r'].consumers).toEqual([{ node: 'pool', input: 0 }]); // moved up past Flatten and MaxPool
    expect(byId['a:f']).toBeUndefined();
    expect(byId['w:wm'].axis).toBe(1);
    expect(byId['w:wm'].channels).toBe(5);
    expect(byId['w:wg'].axis).toBe(1);
  });

  it('honours ignored scope and operation types', () => {
    const m = buildModel({
      inputs: { x: [1, 2, 4, 4] },
      outputs: { y: [1, 2, 4, 4] },
      initializers: { w1: [2, 2, 1, 1] },
      nodes: [
        { op: 'Conv', name: 'c1', inputs: ['x', 'w1'], outputs: ['c'] },
        { op: 'Add', name: 'add', inputs: ['c', 'x'], outputs: ['y'] },
      ],
    });
    expect(analyse(m, params({ ignored: { scope: ['c1'] } })).ids).toEqual(['a:c', 'a:x']);
    expect(analyse(m, params({ ignored: { operations: [{ type: 'Add' }] } })).ids).toEqual(['a:x', 'w:w1']);
  });
});

describe('revert groups (closure)', () => {
  it('a tensor shared by two convs reverts both convs and their weights together', () => {
    const m = buildModel({
      inputs: { x: [1, 2, 4, 4] },
      outputs: { y1: [1, 3, 4, 4], y2: [1, 3, 4, 4] },
      initializers: { w1: [3, 2, 1, 1], w2: [3, 2, 1, 1] },
      nodes: [
        { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['r'] },
        { op: 'Conv', name: 'c1', inputs: ['r', 'w1'], outputs: ['y1'] },
        { op: 'Conv', name: 'c2', inputs: ['r', 'w2'], outputs: ['y2'] },
      ],
    });
    const { finder, ids } = analyse(m);
    const groups = finder.groups(ids);
    expect(groups).toHaveLength(1);
    expect(groups[0].quantizers).toEqual(['a:r', 'w:w1', 'w:w2']);
    expect(groups[0].ops).toEqual(['c1', 'c2']);
    // once a:r is reverted, each conv's weight is its own group
    expect(finder.groups(['w:w1', 'w:w2']).map((g) => g.quantizers)).toEqual([['w:w1'], ['w:w2']]);
  });

  it('eltwise Add pulls in the other input and, through it, the producer conv quantizers of a residual block', () => {
    // x → conv1 → a ; Add(a, x) → conv2
    const m = buildModel({
      inputs: { x: [1, 2, 4, 4] },
      outputs: { y: [1, 2, 4, 4] },
      initializers: { w1: [2, 2, 1, 1], w2: [2, 2, 1, 1] },
      nodes: [
        { op: 'Conv', name: 'conv1', inputs: ['x', 'w1'], outputs: ['a'] },
        { op: 'Add', name: 'add', inputs: ['a', 'x'], outputs: ['s'] },
        { op: 'Conv', name: 'conv2', inputs: ['s', 'w2'], outputs: ['y'] },
      ],
    });
    const { finder, ids } = analyse(m);
    expect(ids).toEqual(['a:x', 'w:w1', 'a:a', 'a:s', 'w:w2']);
    const groups = finder.groups(ids);
    // a:x feeds conv1 and add → conv1's weight and add's other input (a:a) join the group
    expect(groups[0]).toEqual({ id: 'a:x', quantizers: ['a:a', 'a:x', 'w:w1'], ops: ['conv1', 'add'] });
    expect(groups[1]).toEqual({ id: 'a:s', quantizers: ['a:s', 'w:w2'], ops: ['conv2'] });
  });

  it('Concat inputs share one range key and revert as a whole', () => {
    const m = buildModel({
      inputs: { x: [1, 2, 4, 4] },
      outputs: { y: [1, 2, 4, 4] },
      initializers: { w1: [2, 2, 1, 1], w2: [2, 2, 1, 1], w3: [2, 4, 1, 1] },
      nodes: [
        { op: 'Conv', name: 'c1', inputs: ['x', 'w1'], outputs: ['a'] },
        { op: 'Conv', name: 'c2', inputs: ['x', 'w2'], outputs: ['b'] },
        { op: 'Relu', name: 'r1', inputs: ['a'], outputs: ['ra'] },
        { op: 'Relu', name: 'r2', inputs: ['b'], outputs: ['rb'] },
        { op: 'Concat', name: 'cat', inputs: ['ra', 'rb'], outputs: ['c'], attrs: [intAttr('axis', 1)] },
        { op: 'Conv', name: 'c3', inputs: ['c', 'w3'], outputs: ['y'] },
      ],
    });
    const { placement, finder, ids } = analyse(m);
    const byId = Object.fromEntries(placement.quantizers.map((q) => [q.id, q]));
    expect(byId['a:ra'].unifiedKey).toBe('concat:cat');
    expect(byId['a:rb'].unifiedKey).toBe('concat:cat');
    expect(byId['a:c']).toBeUndefined();
    const g = finder.groups(ids).find((x) => x.quantizers.includes('a:ra'))!;
    expect(g.quantizers).toEqual(['a:ra', 'a:rb', 'w:w3']);
    expect(g.ops).toEqual(['c3']);
  });

  it('depthwise conv inputs are per channel', () => {
    const m = buildModel({
      inputs: { x: [1, 4, 4, 4] },
      outputs: { y: [1, 4, 4, 4] },
      initializers: { w: [4, 1, 3, 3] },
      nodes: [{ op: 'Conv', name: 'dw', inputs: ['x', 'w'], outputs: ['y'], attrs: [intAttr('group', 4), { name: 'pads', type: 7, ints: [1, 1, 1, 1] }] }],
    });
    const a = analyse(m).placement.quantizers.find((q) => q.id === 'a:x')!;
    expect([a.granularity, a.axis, a.channels]).toEqual(['perchannel', 1, 4]);
  });
});
