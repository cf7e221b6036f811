// Images of text for the OCR of image documents: lines drawn in black on white with
// @napi-rs/canvas, as a PNG, JPEG or WebP, or as a multi-frame TIFF (one frame per page).
import { createCanvas, type Canvas } from '@napi-rs/canvas';
import UTIF from 'utif2';

/** The lines at ~30 px a letter, which is body text scanned at 300 DPI. */
export function drawLines(lines: readonly string[]): Canvas {
  const canvas = createCanvas(1400, 60 + lines.length * 60);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000000';
  context.font = '36px sans-serif';
  lines.forEach((line, i) => context.fillText(line, 40, 70 + i * 60));
  return canvas;
}

export function makeImage(lines: readonly string[], type: 'image/png' | 'image/jpeg' | 'image/webp'): Buffer {
  const canvas = drawLines(lines);
  return type === 'image/png' ? canvas.toBuffer('image/png') : canvas.toBuffer(type, 90);
}

/** A baseline TIFF with one 8-bit grey, uncompressed frame per page. */
export function makeTiff(pages: readonly (readonly string[])[]): Buffer {
  const frames = pages.map((lines) => {
    const canvas = drawLines(lines);
    const rgba = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const grey = new Uint8Array(canvas.width * canvas.height);
    for (let i = 0; i < grey.length; i++) grey[i] = rgba[i * 4] ?? 0;
    return { width: canvas.width, height: canvas.height, grey };
  });
  // The frames' pixels follow the directories: encode once to learn their length, then with the offsets.
  const ifds = (offsets: number[]): UTIF.IFD[] => frames.map((f, i) => ({
    t256: [f.width], t257: [f.height], t258: [8], t259: [1], t262: [1], t273: [offsets[i] ?? 0], t277: [1], t278: [f.height], t279: [f.grey.length],
  }) as unknown as UTIF.IFD);
  const headerLength = new Uint8Array(UTIF.encode(ifds(frames.map(() => 0)))).length;
  const offsets: number[] = [];
  let at = headerLength;
  for (const frame of frames) {
    offsets.push(at);
    at += frame.grey.length;
  }
  const header = Buffer.from(UTIF.encode(ifds(offsets)));
  return Buffer.concat([header, ...frames.map((f) => Buffer.from(f.grey))]);
}
