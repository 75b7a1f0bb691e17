import { describe, expect, it } from 'vitest';
import { centerCrop, convertColor, normalizeTensor, preprocessPixels, resizeBilinear, stepSize, toLayout, type FloatImage } from '../../src/core/data/preprocess';

const gray = (h: number, w: number, vals: number[]): FloatImage => ({ height: h, width: w, channels: 1, data: Float32Array.from(vals) });
const close = (a: ArrayLike<number>, b: number[]) => expect(Array.from(a).map((v) => Math.round(v * 1e5) / 1e5)).toEqual(b);

describe('resizeBilinear (OpenCV INTER_LINEAR, half-pixel centres)', () => {
  it('upsamples 2×2 → 4×4 as cv2.resize does', () => {
    const out = resizeBilinear(gray(2, 2, [0, 10, 20, 30]), 4, 4);
    // taps per axis: s = (d + 0.5)/2 − 0.5 → −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    close(out.data, [0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15, 15, 17.5, 22.5, 25, 20, 22.5, 27.5, 30]);
  });

  it('downsamples 1×4 → 1×2 (centres at 0.5 and 2.5)', () => {
    close(resizeBilinear(gray(1, 4, [0, 10, 20, 30]), 1, 2).data, [5, 25]);
  });

  it('handles non-integer ratios and keeps channels interleaved', () => {
    // 1×3 → 1×2: scale 1.5, s = 0.25 and 1.75
    const rgb: FloatImage = { height: 1, width: 3, channels: 2, data: Float32Array.from([0, 100, 30, 70, 60, 40]) };
    close(resizeBilinear(rgb, 1, 2).data, [7.5, 92.5, 52.5, 47.5]);
  });

  it('is the identity at the same size', () => {
    const img = gray(2, 2, [1, 2, 3, 4]);
    expect(resizeBilinear(img, 2, 2)).toBe(img);
  });
});

describe('centerCrop', () => {
  it('takes the centre, offset floor((in − out)/2)', () => {
    const img = gray(
      4,
      5,
      Array.from({ length: 20 }, (_, i) => i),
    );
    // top = 1, left = 1
    expect(Array.from(centerCrop(img, 2, 2).data)).toEqual([6, 7, 11, 12]);
    // top = 0 (floor 1/2), left = 2
    expect(Array.from(centerCrop(img, 3, 1).data)).toEqual([2, 7, 12]);
  });
  it('refuses a crop larger than the image, naming the file', () => {
    expect(() => centerCrop(gray(2, 2, [0, 0, 0, 0]), 3, 1, 'a.png')).toThrow(/^a\.png: cannot centre-crop a 2×2 image to 3×1/);
  });
});

describe('color', () => {
  const px = { width: 2, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0, 10, 200, 30]) };
  it('keeps RGB, swaps to BGR, and weighs gray 0.299/0.587/0.114 rounded', () => {
    expect(Array.from(convertColor(px, 'rgb').data)).toEqual([255, 0, 0, 10, 200, 30]);
    expect(Array.from(convertColor(px, 'bgr').data)).toEqual([0, 0, 255, 30, 200, 10]);
    // 76.245 → 76; 2.99 + 117.4 + 3.42 = 123.81 → 124
    expect(Array.from(convertColor(px, 'gray').data)).toEqual([76, 124]);
    // R = G = B = v stays v (the weights sum to 1)
    expect(Array.from(convertColor({ width: 1, height: 1, channels: 3, data: [77, 77, 77] }, 'gray').data)).toEqual([77]);
  });
  it('treats arrays as already in the configured order', () => {
    expect(Array.from(convertColor(px, 'bgr', 'as-is').data)).toEqual([255, 0, 0, 10, 200, 30]);
    expect(() => convertColor(px, 'gray', 'as-is', 'x.npy[0]')).toThrow(/^x\.npy\[0\]: dataset\.color: dataset\.color is gray but the array has 3 channels/);
  });
  it('expands gray to 3 channels for rgb/bgr models', () => {
    expect(Array.from(convertColor({ width: 2, height: 1, channels: 1, data: [5, 9] }, 'bgr').data)).toEqual([5, 5, 5, 9, 9, 9]);
  });
});

describe('layout and normalization', () => {
  const img: FloatImage = { height: 1, width: 2, channels: 3, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
  it('lays out NCHW and NHWC', () => {
    expect(toLayout(img, 'NCHW')).toEqual({ dims: [3, 1, 2], data: Float32Array.from([1, 4, 2, 5, 3, 6]) });
    expect(toLayout(img, 'NHWC')).toEqual({ dims: [1, 2, 3], data: img.data });
  });

  it('runs the whole pipeline: bgr, per-channel normalization, NCHW', () => {
    const px = { width: 2, height: 1, channels: 3, data: Uint8Array.from([10, 20, 30, 40, 50, 60]) };
    const out = preprocessPixels(px, {
      color: 'bgr',
      layout: 'NCHW',
      steps: [{ type: 'normalization', mean: [30, 20, 10], std: [1, 2, 4] }],
      sampleShape: [3, 1, 2],
    });
    expect(out.dims).toEqual([3, 1, 2]);
    // B: 30−30, 60−30 ; G: (20−20)/2, (50−20)/2 ; R: (10−10)/4, (40−10)/4
    close(out.data, [0, 30, 0, 15, 0, 7.5]);
  });

  it('resizes then crops then normalizes (scalar mean/std) in the declared order', () => {
    const px = { width: 4, height: 4, channels: 1, data: Uint8Array.from({ length: 16 }, (_, i) => i * 16) };
    const out = preprocessPixels(px, {
      color: 'gray',
      layout: 'NHWC',
      steps: [
        { type: 'resize', size: 2 },
        { type: 'crop', dst_height: 1, dst_width: 2 },
        { type: 'normalization', mean: 100, std: 10 },
      ],
      sampleShape: [1, 2, 1],
    });
    // 4→2 samples at 0.5 and 2.5 on each axis (bilinear is exact on this linear ramp);
    // the 1×2 crop keeps row 0. Pixel (y,x) = (4y + x)·16; resized (0,0) = (4·0.5 + 0.5)·16 = 40, (0,1) = (2 + 2.5)·16 = 72
    close(out.data, [-6, -2.8]);
    expect(out.dims).toEqual([1, 2, 1]);
  });

  it('errors naming the file and both sizes when the result does not fit the model', () => {
    const px = { width: 30, height: 30, channels: 1, data: new Uint8Array(900) };
    expect(() => preprocessPixels(px, { color: 'gray', layout: 'NCHW', steps: [], sampleShape: [1, 28, 28], file: 'val/a.png' })).toThrow(
      /^val\/a\.png: preprocessed sample is 1×30×30 \(NCHW\) but the model input expects 1×28×28/,
    );
    expect(() => preprocessPixels(px, { color: 'rgb', layout: 'NCHW', steps: [], sampleShape: [1, 30, 30], file: 'b.png' })).toThrow(/3×30×30/);
    // dynamic dims match anything
    expect(preprocessPixels(px, { color: 'gray', layout: 'NCHW', steps: [], sampleShape: [1, -1, -1] }).dims).toEqual([1, 30, 30]);
  });

  it('validates steps: sizes, mean/std lengths, std 0', () => {
    expect(() => stepSize({ type: 'resize', dst_height: 3 }, 'preprocessing[0]')).toThrow(/preprocessing\[0\]: resize needs both dst_height and dst_width/);
    expect(() => stepSize({ type: 'crop' })).toThrow(/crop needs 'size'/);
    const px = { width: 1, height: 1, channels: 1, data: [1] };
    expect(() => preprocessPixels(px, { color: 'gray', layout: 'NCHW', steps: [{ type: 'normalization', mean: [1, 2, 3] }] })).toThrow(
      /preprocessing\[0\]\.mean: has 3 values for 1 channel\(s\)/,
    );
    expect(() => preprocessPixels(px, { color: 'gray', layout: 'NCHW', steps: [{ type: 'normalization', std: 0 }] })).toThrow(/std must not be 0/);
  });

  it('normalizes float tensors along the layout channel axis', () => {
    const nchw = Float32Array.from([1, 1, 2, 2]);
    normalizeTensor(nchw, [2, 1, 2], 'NCHW', [1, 2], [1, 2]);
    expect(Array.from(nchw)).toEqual([0, 0, 0, 0]);
    const nhwc = Float32Array.from([1, 2, 1, 2]);
    normalizeTensor(nhwc, [1, 2, 2], 'NHWC', [1, 2], 1);
    expect(Array.from(nhwc)).toEqual([0, 0, 0, 0]);
  });
});
