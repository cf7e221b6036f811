// The PDF options of a job (`pdfEngine`, `pdfPassword`), checked when the job is submitted and
// again by the reader, as the OCR options are (ocr-options.ts).
import { ReamError } from '../../errors.ts';
import type { JsonObject } from '../../json.ts';
import type { PdfEngine, ReadOptions } from '../types.ts';

export const PDF_ENGINES: readonly PdfEngine[] = ['pdfium', 'pdfjs'];

/**
 * PDFium: about 2.5× pdf.js's speed on the shared corpus with the same fidelity to pdftotext
 * (docs/benchmarks.md, "PDF text extraction").
 */
export const DEFAULT_PDF_ENGINE: PdfEngine = 'pdfium';

/** The job options that set how PDFs are read. */
export const PDF_OPTION_KEYS = ['pdfEngine', 'pdfPassword'] as const;

/** Longer passwords are refused: PDF passwords are at most 127 bytes (AES-256), 32 before. */
const MAX_PASSWORD_LENGTH = 127;

/**
 * Reads and checks `pdfEngine` and `pdfPassword`; what is absent stays absent (the reader
 * applies the default engine), so a job's read options say only what its user chose.
 */
export function parsePdfOptions(options: JsonObject): Pick<ReadOptions, 'pdfEngine' | 'pdfPassword'> {
  const engine = options.pdfEngine;
  if (engine !== undefined && (typeof engine !== 'string' || !(PDF_ENGINES as readonly string[]).includes(engine))) {
    throw invalid(`option "pdfEngine" must be one of ${PDF_ENGINES.join(', ')}, got ${JSON.stringify(engine)}`);
  }
  const password = options.pdfPassword;
  // NUL would end the string where PDFium reads it as C text.
  if (password !== undefined && (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH || password.includes('\0'))) {
    throw invalid(`option "pdfPassword" must be a string of 1 to ${MAX_PASSWORD_LENGTH} characters without NUL`);
  }
  return {
    ...(engine === undefined ? {} : { pdfEngine: engine as PdfEngine }),
    ...(password === undefined ? {} : { pdfPassword: password }),
  };
}

/** The engine and password a reader uses: {@link parsePdfOptions} over options a program may have typed by hand, and the default engine. */
export function checkPdfOptions(read: ReadOptions): { engine: PdfEngine; password?: string } {
  const { pdfEngine = DEFAULT_PDF_ENGINE, pdfPassword } = parsePdfOptions({
    ...(read.pdfEngine === undefined ? {} : { pdfEngine: read.pdfEngine }),
    ...(read.pdfPassword === undefined ? {} : { pdfPassword: read.pdfPassword }),
  });
  return { engine: pdfEngine, ...(pdfPassword === undefined ? {} : { password: pdfPassword }) };
}

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}
