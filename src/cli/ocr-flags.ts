// `ream run --ocr auto|always|never --ocr-lang eng+fra --ocr-dpi 300 --links --max-attachments 100
// --max-attachment-size 100 --max-attachment-depth 3`: the reading job options (OCR; links kept in
// HTML, Word and e-mail text; e-mail attachments read as child documents) as flags. Languages and resolutions are checked where every job's options are (at submit), so
// the CLI, the API and the library refuse the same things with the same words.
import { Option, type Command } from 'commander';
import type { JsonObject } from '../json.ts';
import { nonNegativeInt, positiveInt, positiveNumber } from './parse-flags.ts';

export function addOcrFlags(command: Command): Command {
  return command
    .addOption(new Option('--ocr <mode>', 'OCR of pages without usable text: auto (image pages), always (every page), never (report them as needs_ocr)').choices(['auto', 'always', 'never']))
    .option('--ocr-lang <codes>', 'OCR languages, joined with + or , (eng, fra, deu bundled; others: npm install @tesseract.js-data/<code>) (default eng)')
    .addOption(new Option('--ocr-engine <engine>', 'OCR engine: auto (the tesseract program when installed, else tesseract.js), tesseract (the program: PATH or REAM_TESSERACT), tesseractjs').choices(['auto', 'tesseract', 'tesseractjs']))
    .option('--ocr-dpi <dpi>', 'resolution pages are rendered at for OCR, 72–600 (default 300)', positiveInt)
    .option('--links', 'HTML, Word and e-mail: keep each link\'s address after its text, as "text [https://…]"')
    .option('--max-attachments <n>', 'e-mail: attachments read per message as documents of their own; the rest are refused (resource_limit) (default 100)', nonNegativeInt)
    .option('--max-attachment-size <MB>', 'e-mail: refuse larger attachments (resource_limit) (default 100)', positiveNumber)
    .option('--max-attachment-depth <n>', 'e-mail: messages attached to messages read this deep; 0 reads no attachment (default 3)', nonNegativeInt);
}

/** The job options the OCR, `--links` and attachment flags set; none when no flag was given. */
export function ocrJobOptions(flags: Record<string, unknown>): JsonObject {
  const options: JsonObject = {};
  if (typeof flags.ocr === 'string') options.ocr = flags.ocr;
  if (typeof flags.ocrLang === 'string') options.ocrLanguages = flags.ocrLang.split(/[+,]/).map((code) => code.trim()).filter(Boolean);
  if (typeof flags.ocrDpi === 'number') options.ocrDpi = flags.ocrDpi;
  if (typeof flags.ocrEngine === 'string') options.ocrEngine = flags.ocrEngine;
  if (flags.links === true) options.links = true;
  if (typeof flags.maxAttachments === 'number') options.maxAttachments = flags.maxAttachments;
  if (typeof flags.maxAttachmentSize === 'number') options.maxAttachmentBytes = Math.round(flags.maxAttachmentSize * 1024 * 1024);
  if (typeof flags.maxAttachmentDepth === 'number') options.maxAttachmentDepth = flags.maxAttachmentDepth;
  return options;
}
