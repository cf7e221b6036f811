// What both PDF engines' readers share (pdf-tasks.ts for PDFium, pdfjs-pages.ts for pdf.js), kept
// apart from either so that a thread reading with PDFium never loads pdf.js to get at them.
import type { ErrorCode } from '../../errors.ts';

/** One page read: its text layer, and whether it is an image without usable text (an OCR candidate). */
export type PageRead = { text: string; imageOnly: boolean };

/**
 * Images must cover at least this share of a page without usable text for OCR to be worth its
 * seconds: a scan covers ~100%, a page with only a logo or a rule (a few %) is simply blank.
 */
export const MIN_IMAGE_COVERAGE = 0.2;

/**
 * The code of an error an engine threw while reading part of a file. Running out of memory is
 * `resource_limit`; everything else is the file's fault (`invalid_pdf`): pdf.js throws plain
 * `Error`s for many structural problems, so only the out-of-memory cases can be told apart.
 */
export function pdfjsErrorCode(error: unknown): ErrorCode {
  if (error instanceof RangeError && /allocation|array length|memory/i.test(error.message)) return 'resource_limit';
  return 'invalid_pdf';
}

/** An error's message, for a page or file failure that names what the engine said. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
