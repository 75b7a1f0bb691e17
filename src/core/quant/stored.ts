// QuantizerParams (typed arrays) ⇄ StoredQuantizer (plain arrays, JSON-friendly for snapshots).
import type { QuantizerParams } from '../types';
import type { StoredQuantizer } from '../algorithms/backend';

export function toStored(p: QuantizerParams): StoredQuantizer {
  return {
    scale: Array.from(p.scale),
    zeroPoint: Array.from(p.zeroPoint),
    qmin: p.qmin,
    qmax: p.qmax,
    dtype: p.dtype,
    low: Array.from(p.low),
    high: Array.from(p.high),
  };
}

export function toQuantizerParams(s: StoredQuantizer): QuantizerParams {
  return {
    scale: Float32Array.from(s.scale),
    zeroPoint: Int32Array.from(s.zeroPoint),
    qmin: s.qmin,
    qmax: s.qmax,
    dtype: s.dtype,
    low: Float32Array.from(s.low),
    high: Float32Array.from(s.high),
  };
}
