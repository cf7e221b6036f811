// Images (PNG, JPEG, TIFF, WebP) as documents: one page per image, or per frame of a TIFF, each
// read by OCR since an image has no text layer. `ocr: "never"` leaves the pages empty with a
// `needs_ocr` warning, never a silent empty success. Decoding and OCR run in the thread pool
// (image-tasks.ts); this side checks limits and forwards.
import { checkFileSize, checkPageCount, checkRange, fileSize, throwIfCancelled } from '../file-checks.ts';
import { checkOcrOptions, DEFAULT_OCR, MAX_RENDER_PIXELS } from '../ocr/ocr-options.ts';
import { ocrPages } from '../ocr/ocr-pages.ts';
import type { DocumentFormat, Extraction, Inspection, PageRange, PageReadListener, PageWarning, ReadLimits, ReadOptions, TaskRunner } from '../types.ts';
import type { ImageInspectInput, ImageInspectResult, ImageOcrInput } from './image-tasks.ts';

export function createImageFormat(runner: TaskRunner, mediaType: string, extensions: readonly string[]): DocumentFormat {
  return {
    mediaType,
    extensions,
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal): Promise<Inspection> {
      throwIfCancelled(signal);
      const size = await checkFileSize(path, limits);
      const input: ImageInspectInput = { path, mediaType };
      const { pageCount } = await runner.run<ImageInspectResult>('image.inspect', input, { signal, extraMemoryBytes: size });
      checkPageCount(pageCount, limits);
      return { mediaType, pageCount, metadata: {} };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal, options: ReadOptions = {}, onPageRead?: PageReadListener): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      const numbers = Array.from({ length: range.to - range.from }, (_, i) => range.from + i + 1);
      if (numbers.length === 0) return { pages: [], failures: [] };
      const ocr = options.ocr ? checkOcrOptions(options.ocr) : DEFAULT_OCR;
      if (ocr.mode === 'never') {
        return {
          pages: numbers.map((page) => ({ page, text: '' })),
          failures: [],
          warnings: numbers.map((page) => ({ page, code: 'needs_ocr', message: `page ${page} is an image and OCR is off (ocr: "never")` })),
        };
      }
      // The thread holds the file and the decoded frame (RGBA on two canvases, then its PNG).
      const extraMemoryBytes = (await fileSize(path)) + MAX_RENDER_PIXELS * 9;
      const input = (page: number): ImageOcrInput => ({ path, mediaType, page, languages: [...ocr.languages], dpi: ocr.dpi, engine: ocr.engine ?? 'auto' });
      const { warnings: cut, ...read } = await ocrPages(runner, 'image.ocr', numbers, input, { signal, extraMemoryBytes, onPageRead });
      // An image is nothing but what OCR finds on it: finding nothing is worth a warning.
      const blank = read.pages.filter((page) => page.text.trim() === '').map(({ page }): PageWarning => ({ page, code: 'no_text_found', message: `OCR found no text on page ${page} of the image` }));
      const warnings = [...cut, ...blank].sort((a, b) => a.page - b.page);
      return warnings.length === 0 ? read : { ...read, warnings };
    },
  };
}
