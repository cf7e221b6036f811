// The pixels of an image document, in a pool thread. PNG, JPEG and WebP are decoded by
// @napi-rs/canvas (the canvas the PDF reader renders on); TIFF by utif2 (pure JavaScript: every
// TIFF compression scanners write, CCITT fax included). A TIFF has one page per frame (IFD).
// Sizes are read from the headers before any pixel is decoded, so that a small file declaring
// a huge picture (a decompression bomb) is refused with `resource_limit` instead of inflated.
import { createCanvas, ImageData, loadImage, type Canvas } from '@napi-rs/canvas';
import { imageSize } from 'image-size';
import UTIF from 'utif2';
import { ReamError } from '../../errors.ts';
import { MAX_RENDER_PIXELS } from '../ocr/ocr-options.ts';
import { TIFF_MEDIA_TYPE } from '../sniff.ts';
import { checkTiffStructure } from './tiff-structure.ts';

/** One TIFF frame's size from its tags (256: width, 257: height), without decoding it. */
function tagNumber(ifd: UTIF.IFD, tag: string): number {
  const value = ifd[tag];
  return Array.isArray(value) && typeof value[0] === 'number' ? value[0] : 0;
}

/**
 * utif2's decode with the options its typings leave out (UTIF.js: `UTIF.decode = function(buff, prm)`).
 * Maker notes (camera makers' private tags) are left unread: OCR needs none of them, and
 * utif2 decodes a Nikon maker note as a TIFF of its own, whose structure is not checked here.
 */
const decodeTiff = UTIF.decode as (buffer: Buffer, options: { parseMN: boolean; debug: boolean }) => UTIF.IFD[];

/** TIFF frames that hold an image (thumbnails sit in sub-IFDs, which `decode` leaves nested). */
function tiffFrames(bytes: Buffer): UTIF.IFD[] {
  checkTiffStructure(bytes);
  let ifds: UTIF.IFD[];
  try {
    ifds = decodeTiff(bytes, { parseMN: false, debug: false });
  } catch (error) {
    throw invalid(`the TIFF's structure cannot be read: ${message(error)}`, error);
  }
  const frames = ifds.filter((ifd) => tagNumber(ifd, 't256') > 0 && tagNumber(ifd, 't257') > 0);
  if (frames.length === 0) throw invalid('the TIFF holds no image');
  return frames;
}

/** Refuses a picture over {@link MAX_RENDER_PIXELS} (or without a size) before it is decoded. */
function checkSize(width: number, height: number, what: string): void {
  if (!(width > 0 && height > 0)) throw invalid(`${what} has no size`);
  if (width * height > MAX_RENDER_PIXELS) {
    throw ReamError.nonRetryable('resource_limit', `${what} is ${width}×${height} pixels; ream reads images of at most ${MAX_RENDER_PIXELS / 1e6} megapixels`, {
      details: { width, height, maxPixels: MAX_RENDER_PIXELS },
    });
  }
}

/** How many pages the image has (TIFF: its frames; others: 1), each frame's size checked. */
export function frameCount(bytes: Buffer, mediaType: string): number {
  if (mediaType === TIFF_MEDIA_TYPE) {
    const frames = tiffFrames(bytes);
    frames.forEach((ifd, i) => checkSize(tagNumber(ifd, 't256'), tagNumber(ifd, 't257'), `frame ${i + 1}`));
    return frames.length;
  }
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch (error) {
    throw invalid(`the image's header cannot be read: ${message(error)}`, error);
  }
  checkSize(size.width ?? 0, size.height ?? 0, 'the image');
  return 1;
}

/** Frame `index` (0-based) as a PNG on white, ready for OCR. */
export async function framePng(bytes: Buffer, mediaType: string, index: number): Promise<Buffer> {
  frameCount(bytes, mediaType); // sizes again: this thread may not be the one that inspected
  let source: Canvas | Awaited<ReturnType<typeof loadImage>>;
  if (mediaType === TIFF_MEDIA_TYPE) {
    const ifd = tiffFrames(bytes)[index];
    if (!ifd) throw invalid(`the TIFF has no frame ${index + 1}`);
    try {
      UTIF.decodeImage(bytes, ifd);
      const rgba = UTIF.toRGBA8(ifd);
      const frame = createCanvas(ifd.width, ifd.height);
      frame.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, ifd.width * ifd.height * 4), ifd.width, ifd.height), 0, 0);
      source = frame;
    } catch (error) {
      throw invalid(`frame ${index + 1} of the TIFF cannot be decoded: ${message(error)}`, error);
    }
  } else {
    if (index !== 0) throw invalid(`the image has one page, no page ${index + 1}`);
    try {
      source = await loadImage(bytes);
    } catch (error) {
      throw invalid(`the image cannot be decoded: ${message(error)}`, error);
    }
  }
  // Transparent pixels would reach tesseract as black: drawn over white, as on paper.
  const page = createCanvas(source.width, source.height);
  const context = page.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, page.width, page.height);
  context.drawImage(source, 0, 0);
  return page.toBuffer('image/png');
}

function invalid(text: string, cause?: unknown): ReamError {
  return ReamError.nonRetryable('invalid_image', text, cause === undefined ? {} : { cause });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
