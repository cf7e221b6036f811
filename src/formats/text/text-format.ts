// Plain text and Markdown: UTF-8, or UTF-16 with its byte order mark. Pages are split at form
// feeds (`\f`), the way `pdftotext` output is, and by size (see text-pages.ts), so a large file
// without form feeds is many pages whose chunks run in parallel. The file is streamed: its pages
// are cut as it is read and only the pages asked for are kept. Cheap enough for the main thread:
// decoding is linear and `maxBytes` caps the input.
import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';
import { ReamError } from '../../errors.ts';
import { checkFileSize, checkPageCount, checkRange, fileIoError, throwIfCancelled } from '../file-checks.ts';
import { hasUtf16Bom } from '../sniff.ts';
import type { DocumentFormat, DocumentMetadata, Extraction, Inspection, PageRange, ReadLimits } from '../types.ts';
import { PAGE_CHARS, PAGE_HARD_CHARS, PAGE_LINES, TextPager } from './text-pages.ts';

/** What the result says (`metadata.pagination`) of a text that has pages cut by size, not only at its form feeds. */
export const TEXT_SIZE_PAGINATION = `split at its form feeds, and by size: a page ends after its ${PAGE_LINES.toLocaleString('en-US')}th line, or at the first line end past ${PAGE_CHARS.toLocaleString('en-US')} characters (a longer line is cut at ${PAGE_HARD_CHARS.toLocaleString('en-US')})`;

export function createTextFormat(mediaType: string, extensions: readonly string[]): DocumentFormat {
  return {
    mediaType,
    extensions,
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal): Promise<Inspection> {
      throwIfCancelled(signal);
      await checkFileSize(path, limits);
      let pageCount = 0;
      let title: string | undefined;
      let cutBySize = false;
      await readPages(path, signal, (text, bySize) => {
        pageCount++;
        cutBySize ||= bySize;
        if (mediaType === 'text/markdown' && title === undefined) title = markdownTitle(text);
        return true;
      });
      checkPageCount(pageCount, limits);
      const metadata: DocumentMetadata = { ...(title ? { title } : {}), ...(cutBySize ? { pagination: TEXT_SIZE_PAGINATION } : {}) };
      return { mediaType, pageCount, metadata };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      const out: Extraction = { pages: [], failures: [] };
      let index = 0;
      await readPages(path, signal, (text) => {
        if (index >= range.from) out.pages.push({ page: index + 1, text });
        index++;
        return index < range.to;
      });
      for (let missing = Math.max(index, range.from); missing < range.to; missing++) {
        out.failures.push({ page: missing + 1, code: 'invalid_text', message: `the text has ${index} pages, no page ${missing + 1}` });
      }
      if (out.pages.length === 0 && out.failures.length > 0) throw ReamError.nonRetryable('invalid_text', out.failures[0]?.message ?? 'no page could be read');
      return out;
    },
  };
}

/**
 * Streams `path` as strict UTF-8, or as UTF-16 when it starts with a UTF-16 byte order mark (what
 * Windows Notepad saves as "Unicode"), handing each page to `onPage` in order until it returns
 * false; the BOM is dropped. `invalid_text` for anything else, as soon as it is met.
 */
export async function readPages(path: string, signal: AbortSignal | undefined, onPage: (text: string, cutBySize: boolean) => boolean): Promise<void> {
  let wanted = true;
  const pager = new TextPager((text, cutBySize) => {
    if (wanted) wanted = onPage(text, cutBySize);
  });
  let decoder: TextDecoder | undefined;
  const stream = createReadStream(path);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      throwIfCancelled(signal);
      if (!decoder) decoder = decoderFor(chunk);
      if (decoder.encoding === 'utf-8' && chunk.includes(0)) throw ReamError.nonRetryable('invalid_text', 'the file contains NUL bytes: it is binary, not text');
      pager.push(decode(decoder, chunk));
      if (!wanted) return;
    }
    if (decoder) pager.push(decode(decoder));
    pager.end();
  } catch (error) {
    if (error instanceof ReamError) throw error;
    throw fileIoError('read', error);
  } finally {
    stream.destroy();
  }
}

function decoderFor(head: Uint8Array): TextDecoder {
  if (!hasUtf16Bom(head)) return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  return new TextDecoder(head[0] === 0xff ? 'utf-16le' : 'utf-16be', { fatal: true, ignoreBOM: false });
}

/** One piece of the text (`bytes` undefined: the end, where a character cut short is an error). */
function decode(decoder: TextDecoder, bytes?: Uint8Array): string {
  try {
    return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
  } catch (error) {
    if (decoder.encoding === 'utf-8') throw ReamError.nonRetryable('invalid_text', 'the file is not valid UTF-8 text', { cause: error });
    const name = decoder.encoding.toUpperCase();
    throw ReamError.nonRetryable('invalid_text', `the file starts as ${name} text (a byte order mark) but is not valid ${name}`, { cause: error });
  }
}

/** The first ATX heading (`# Title`) is a Markdown document's title. */
function markdownTitle(text: string): string | undefined {
  return /^#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(text)?.[1]?.trim() || undefined;
}
