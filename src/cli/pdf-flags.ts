// `ream run --pdf-engine pdfium|pdfjs --pdf-password <password>`: the PDF job options as flags,
// checked where every job's options are (at submit), like the OCR flags (ocr-flags.ts).
import { Option, type Command } from 'commander';
import { PDF_ENGINES } from '../formats/pdf/pdf-options.ts';
import type { JsonObject } from '../json.ts';

export function addPdfFlags(command: Command): Command {
  return command
    .addOption(new Option('--pdf-engine <engine>', 'PDF text engine: pdfium (default; pdf.js reads what it cannot) or pdfjs').choices([...PDF_ENGINES]))
    .addOption(new Option('--pdf-password <password>', 'password of encrypted PDFs (or set REAM_PDF_PASSWORD, which ps does not show)').env('REAM_PDF_PASSWORD'));
}

/** The job options the PDF flags set; none when no flag was given. */
export function pdfJobOptions(flags: Record<string, unknown>): JsonObject {
  const options: JsonObject = {};
  if (typeof flags.pdfEngine === 'string') options.pdfEngine = flags.pdfEngine;
  if (typeof flags.pdfPassword === 'string') options.pdfPassword = flags.pdfPassword;
  return options;
}
