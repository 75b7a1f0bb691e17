// Svelte action: draw a PreviewImage (RGBA pixels) on a canvas.
import type { PreviewImage } from '../../../workers/protocol';

export function paint(canvas: HTMLCanvasElement, img: PreviewImage) {
  const draw = (im: PreviewImage) => {
    canvas.width = im.width;
    canvas.height = im.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const data = new ImageData(new Uint8ClampedArray(im.rgba), im.width, im.height);
    ctx.putImageData(data, 0, 0);
  };
  draw(img);
  return { update: draw };
}
