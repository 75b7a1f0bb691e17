// Label files: integer labels for array datasets (.npy, IDX, or text with one label a line) and
// "relative/path label" lists for image folders.

import { QuantizeError } from '../types';
import { isIdx, parseIdx } from './idx';
import { isNpy, parseNpy, type NpyArray } from './npy';

const td = new TextDecoder('utf-8');

/** Integer labels from a .npy, IDX or text file (one integer a line; blank and # lines skipped). */
export function parseLabels(bytes: Uint8Array, file: string): Int32Array {
  if (isNpy(bytes)) return labelsFromArray(parseNpy(bytes, file), file);
  if (isIdx(bytes)) return labelsFromArray(parseIdx(bytes, file), file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new QuantizeError('labels file is gzip-compressed', { file, expected: 'an uncompressed .npy, IDX or text file' });
  }
  const out: number[] = [];
  const lines = td.decode(bytes).split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    out.push(checkLabel(Number(line), file, `line ${i + 1}`, line));
  });
  return Int32Array.from(out);
}

/** Labels from an array shaped [N] or [N, 1], integer (or integral float) values ≥ 0. */
export function labelsFromArray(arr: NpyArray, file: string): Int32Array {
  const { shape, data } = arr;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    throw new QuantizeError(`labels array has shape [${shape.join(', ')}]`, {
      file,
      expected: 'class indices shaped [N] or [N, 1] (not one-hot)',
    });
  }
  const out = new Int32Array(shape[0]);
  for (let i = 0; i < out.length; i++) {
    const v = typeof data[i] === 'bigint' ? Number(data[i]) : (data[i] as number);
    out[i] = checkLabel(v, file, `index ${i}`, String(data[i]));
  }
  return out;
}

function checkLabel(v: number, file: string, where: string, text: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw new QuantizeError(`invalid label '${text}' at ${where}`, { file, expected: 'a non-negative integer class index' });
  }
  return v;
}

export interface ListedImage {
  /** Path relative to the image folder, '/'-separated. */
  path: string;
  label: number;
}

/** "relative/path label" lines (the label is the last whitespace-separated field). */
export function parseImageList(bytes: Uint8Array, file: string): ListedImage[] {
  const out: ListedImage[] = [];
  td.decode(bytes)
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const m = /^(.*\S)\s+(\S+)$/.exec(line);
      if (!m) {
        throw new QuantizeError(`line ${i + 1} is '${line}'`, { file, expected: "'relative/path label' on each line" });
      }
      out.push({ path: m[1].replace(/\\/g, '/'), label: checkLabel(Number(m[2]), file, `line ${i + 1}`, m[2]) });
    });
  return out;
}
