// Plain text and Markdown: UTF-8, or UTF-16 with its byte order mark; one page unless the file has form feeds (`\f`), which
// split pages the way `pdftotext` output does. Cheap enough for the main thread: decoding is
// linear and `maxBytes` caps the input.
import { readFile } from 'node:fs/promises';
import { ReamError } from '../../errors.ts';
import { checkFileSize, checkPageCount, checkRange, throwIfCancelled } from '../file-checks.ts';
import { hasUtf16Bom } from '../sniff.ts';
import type { DocumentFormat, DocumentMetadata, Extraction, Inspection, PageRange, ReadLimits } from '../types.ts';

export function createTextFormat(mediaType: string, extensions: readonly string[]): DocumentFormat {
  return {
    mediaType,
    extensions,
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal): Promise<Inspection> {
      throwIfCancelled(signal);
      await checkFileSize(path, limits);
      const text = await readText(path);
      const pages = splitPages(text);
      checkPageCount(pages.length, limits);
      return { mediaType, pageCount: pages.length, metadata: mediaType === 'text/markdown' ? markdownMetadata(text) : {} };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      const pages = splitPages(await readText(path));
      const out: Extraction = { pages: [], failures: [] };
      for (let index = range.from; index < range.to; index++) {
        const text = pages[index];
        if (text === undefined) out.failures.push({ page: index + 1, code: 'invalid_text', message: `the text has ${pages.length} pages, no page ${index + 1}` });
        else out.pages.push({ page: index + 1, text });
      }
      if (out.pages.length === 0 && out.failures.length > 0) throw ReamError.nonRetryable('invalid_text', out.failures[0]?.message ?? 'no page could be read');
      return out;
    },
  };
}

/**
 * Reads `path` as strict UTF-8, or as UTF-16 when it starts with a UTF-16 byte order mark (what
 * Windows Notepad saves as "Unicode"); the BOM is dropped. `invalid_text` for anything else.
 */
export async function readText(path: string): Promise<string> {
  const bytes = await readFile(path);
  if (hasUtf16Bom(bytes)) {
    const encoding = bytes[0] === 0xff ? 'utf-16le' : 'utf-16be';
    try {
      return new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch (error) {
      throw ReamError.nonRetryable('invalid_text', `the file starts as ${encoding.toUpperCase()} text (a byte order mark) but is not valid ${encoding.toUpperCase()}`, { cause: error });
    }
  }
  if (bytes.includes(0)) throw ReamError.nonRetryable('invalid_text', 'the file contains NUL bytes: it is binary, not text');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    throw ReamError.nonRetryable('invalid_text', 'the file is not valid UTF-8 text', { cause: error });
  }
}

/**
 * Pages are separated by form feeds. A form feed that ends the file closes the last page rather
 * than opening an empty one (pdftotext ends every page with one). Line ends become `\n`.
 */
export function splitPages(text: string): string[] {
  const pages = text.replace(/\r\n?/g, '\n').split('\f');
  if (pages.length > 1 && pages.at(-1) === '') pages.pop();
  return pages;
}

/** The first ATX heading (`# Title`) is the document's title. */
function markdownMetadata(text: string): DocumentMetadata {
  const title = /^#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(text)?.[1]?.trim();
  return title ? { title } : {};
}
