import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encode as encodePng } from 'fast-png';
import * as jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/core/data/image';
import { parseNpy } from '../../src/core/data/npy';
import { QuantizeError } from '../../src/core/types';

const fixture = (p: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url))));

describe('decodeImage', () => {
  it('decodes an 8-bit gray PNG fixture equal to its .npy row', () => {
    const img = decodeImage(fixture('fmnist-img-40/0_tshirt_top/00019.png'), '00019.png');
    expect([img.width, img.height, img.channels]).toEqual([28, 28, 1]);
    const x = parseNpy(fixture('fmnist-40-x.npy'));
    expect(Array.from(img.data)).toEqual(Array.from((x.data as Uint8Array).subarray(0, 784)));
  });

  it('decodes an RGB PNG fixture equal to its BGR .npy row, channels swapped', () => {
    const img = decodeImage(fixture('ocr-img-4/180/0003.png'), '0003.png');
    expect([img.width, img.height, img.channels]).toEqual([192, 48, 3]);
    const x = parseNpy(fixture('ocr-4-x.npy'));
    const per = 48 * 192 * 3;
    const bgr = x.data.subarray(3 * per, 4 * per) as Uint8Array;
    for (let i = 0; i < per; i += 3) {
      if (img.data[i] !== bgr[i + 2] || img.data[i + 1] !== bgr[i + 1] || img.data[i + 2] !== bgr[i]) {
        throw new Error(`pixel ${i / 3} differs`);
      }
    }
  });

  const rgba = Uint8Array.from([10, 20, 30, 255, 40, 50, 60, 0, 70, 80, 90, 128, 100, 110, 120, 1]);
  it('drops alpha from RGBA and gray+alpha PNGs', () => {
    const a = decodeImage(encodePng({ width: 2, height: 2, data: rgba, channels: 4, depth: 8 }));
    expect(a.channels).toBe(3);
    expect(Array.from(a.data)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);
    const ga = decodeImage(encodePng({ width: 2, height: 1, data: Uint8Array.from([5, 255, 200, 0]), channels: 2, depth: 8 }));
    expect(ga.channels).toBe(1);
    expect(Array.from(ga.data)).toEqual([5, 200]);
  });

  it('reduces 16-bit PNGs to 8 bits (high byte)', () => {
    const img = decodeImage(encodePng({ width: 3, height: 1, data: Uint16Array.from([0, 0x12ff, 0xffff]), channels: 1, depth: 16 }));
    expect(Array.from(img.data)).toEqual([0, 0x12, 0xff]);
  });

  it('expands palette PNGs to RGB', () => {
    const palette = [
      [255, 0, 0],
      [0, 0, 255],
      [1, 2, 3],
    ];
    const img = decodeImage(encodePng({ width: 3, height: 1, data: Uint8Array.from([2, 0, 1]), channels: 1, depth: 8, palette }));
    expect(img.channels).toBe(3);
    expect(Array.from(img.data)).toEqual([1, 2, 3, 255, 0, 0, 0, 0, 255]);
  });

  it('scales low-bit-depth gray PNGs to 0..255', () => {
    // 1-bit, width 10: two bytes a row, rows byte-aligned
    const packed = Uint8Array.from([0b10100000, 0b01000000, 0b11111111, 0b11000000]);
    const img = decodeImage(encodePng({ width: 10, height: 2, data: packed, channels: 1, depth: 1 }));
    expect(Array.from(img.data)).toEqual([255, 0, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
    const img4 = decodeImage(encodePng({ width: 3, height: 1, data: Uint8Array.from([0x0f, 0x50]), channels: 1, depth: 4 }));
    expect(Array.from(img4.data)).toEqual([0, 255, 85]);
  });

  it('decodes JPEG to RGB', () => {
    const w = 16,
      h = 8;
    const data = new Uint8Array(w * h * 4).fill(255);
    for (let i = 0; i < w * h; i++) [data[4 * i], data[4 * i + 1], data[4 * i + 2]] = [200, 100, 50];
    const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data }, 95).data);
    const img = decodeImage(bytes, 'x.jpg');
    expect([img.width, img.height, img.channels]).toEqual([w, h, 3]);
    for (let i = 0; i < w * h; i++) {
      expect(Math.abs(img.data[3 * i] - 200)).toBeLessThanOrEqual(3);
      expect(Math.abs(img.data[3 * i + 2] - 50)).toBeLessThanOrEqual(3);
    }
  });

  it('names the file on corrupt or unsupported images', () => {
    const good = fixture('fmnist-img-40/1_trouser/00002.png');
    const corrupt = good.slice();
    corrupt.fill(0x55, 40, 80); // inside IDAT
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    };
    const e1 = err(() => decodeImage(corrupt, 'val/1/00002.png'));
    expect(e1).toBeInstanceOf(QuantizeError);
    expect(e1.message).toMatch(/^val\/1\/00002\.png: corrupt or unsupported PNG image/);
    expect(err(() => decodeImage(good.subarray(0, 60), 'cut.png')).message).toMatch(/^cut\.png: corrupt or unsupported PNG/);
    expect(err(() => decodeImage(new TextEncoder().encode('GIF89a....'), 'a.gif')).message).toMatch(
      /^a\.gif: unsupported or unrecognised image format \(expected a PNG or JPEG file\)/,
    );
    expect(err(() => decodeImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 'b.jpg')).message).toMatch(/^b\.jpg: corrupt or unsupported JPEG/);
  });
});
