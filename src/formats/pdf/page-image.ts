// The pixels of a PDF page, in a pool thread: how much of the page images cover (from pdf.js's
// operator list, without rendering) and the page rendered to PNG for OCR (pdf.js drawing onto
// @napi-rs/canvas, the canvas pdf.js itself uses under Node).
import { createCanvas } from '@napi-rs/canvas';
import { OPS, type PDFPageProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { ReamError } from '../../errors.ts';
import { MAX_RENDER_PIXELS } from '../ocr/ocr-options.ts';

type Matrix = readonly [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

function multiply(m: Matrix, n: readonly number[]): Matrix {
  const [a = 1, b = 0, c = 0, d = 1, e = 0, f = 0] = n;
  return [
    m[0] * a + m[2] * b, m[1] * a + m[3] * b,
    m[0] * c + m[2] * d, m[1] * c + m[3] * d,
    m[0] * e + m[2] * f + m[4], m[1] * e + m[3] * f + m[5],
  ];
}

/** Images pdf.js paints as the unit square under the current transform. */
const SINGLE_IMAGES: ReadonlySet<number> = new Set([OPS.paintImageXObject, OPS.paintInlineImageXObject, OPS.paintImageMaskXObject, OPS.paintSolidColorImageMask]);

/**
 * The share of the page's area that images cover, 0–1: the area of every image painted (the
 * unit square under the transform in force, as PDF draws images), summed and capped at 1.
 * Overlaps count twice and clipping is ignored: this is a cheap "is this page a picture?", not
 * a measurement. The group and tiling operators pdf.js makes of many small images (glyph-like
 * masks, patterns) are left out: they are not scans.
 */
export function imageCoverage(fnArray: readonly number[], argsArray: readonly unknown[], pageArea: number): number {
  if (!(pageArea > 0)) return 0;
  let ctm = IDENTITY;
  const stack: Matrix[] = [];
  let area = 0;
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i];
    const args = argsArray[i] as unknown[] | null | undefined;
    if (fn === OPS.save) stack.push(ctm);
    else if (fn === OPS.restore) ctm = stack.pop() ?? IDENTITY;
    else if (fn === OPS.transform && Array.isArray(args)) ctm = multiply(ctm, args as number[]);
    else if (fn === OPS.paintFormXObjectBegin) {
      // A form XObject saves the state and applies its own matrix (pdf.js canvas.js does the same).
      stack.push(ctm);
      const matrix = Array.isArray(args) ? args[0] : undefined;
      if (Array.isArray(matrix)) ctm = multiply(ctm, matrix as number[]);
    } else if (fn === OPS.paintFormXObjectEnd) ctm = stack.pop() ?? IDENTITY;
    else if (fn !== undefined && SINGLE_IMAGES.has(fn)) area += Math.abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]);
  }
  return Math.min(1, area / pageArea);
}

/** The page's image coverage (see {@link imageCoverage}); parses the page's content, renders nothing. */
export async function pageImageCoverage(page: PDFPageProxy): Promise<number> {
  const list = await page.getOperatorList();
  const [x0 = 0, y0 = 0, x1 = 0, y1 = 0] = page.view;
  return imageCoverage(list.fnArray, list.argsArray, Math.abs((x1 - x0) * (y1 - y0)));
}

/** The page as a PNG at `dpi` (less for pages over {@link MAX_RENDER_PIXELS}), on white. */
export async function renderPage(page: PDFPageProxy, dpi: number): Promise<Buffer> {
  const base = page.getViewport({ scale: 1 });
  let scale = dpi / 72;
  const pixels = base.width * base.height * scale * scale;
  if (pixels > MAX_RENDER_PIXELS) scale *= Math.sqrt(MAX_RENDER_PIXELS / pixels);
  const viewport = page.getViewport({ scale });
  const width = Math.ceil(viewport.width);
  const height = Math.ceil(viewport.height);
  if (width < 1 || height < 1) throw ReamError.nonRetryable('ocr_failed', `page ${page.pageNumber} has no area to render`);
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  // Transparent pixels would reach tesseract as black: scans are printed on white.
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  // pdf.js types its canvas as the DOM's (unknown without the DOM lib); @napi-rs/canvas implements
  // the part pdf.js draws with, and is what pdf.js itself renders on under Node.
  await page.render({ canvas, viewport }).promise;
  return canvas.toBuffer('image/png');
}
