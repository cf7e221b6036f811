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
import type { DocumentFormat, DocumentMetadata, Extraction, Inspection, PageRange, ReadLimits, ReadOptions } from '../types.ts';
import { fileKey } from '../file-key.ts';
import { marksOf, noteStarts, startBefore, STARTS_KEPT, type PagesSeen, type TextEncoding, type TextStart } from './text-marks.ts';
import { PAGE_CHARS, PAGE_HARD_CHARS, PAGE_LINES, PAGE_MIN_CHARS, TextPager } from './text-pages.ts';

/** What the result says (`metadata.pagination`) of a text that has pages cut by size, not only at its form feeds. */
export const TEXT_SIZE_PAGINATION = `split at its form feeds, and by size: a page ends after its ${PAGE_LINES.toLocaleString('en-US')}th line once it holds ${PAGE_MIN_CHARS.toLocaleString('en-US')} characters, or at the first line end past ${PAGE_CHARS.toLocaleString('en-US')} characters (a longer line is cut at ${PAGE_HARD_CHARS.toLocaleString('en-US')})`;
/** The size pagination before {@link PAGE_MIN_CHARS}: the same pages, but for those of more than {@link PAGE_LINES} lines, which it cut there. */
const LINES_PAGINATION = `split at its form feeds, and by size: a page ends after its ${PAGE_LINES.toLocaleString('en-US')}th line, or at the first line end past ${PAGE_CHARS.toLocaleString('en-US')} characters (a longer line is cut at ${PAGE_HARD_CHARS.toLocaleString('en-US')})`;

/**
 * Said of a text refused for its pages when some were cut by size: the page limit (10,000 by
 * default) holds some 1,000,000,000 characters of dense text, so a text within the size limit
 * (1 GiB) can be over it, and its reader needs to know that ream made those pages.
 */
const TEXT_PAGES_CUT = `ream cut this text into pages by size, a page every ${PAGE_CHARS.toLocaleString('en-US')} characters or so, as well as at its form feeds`;

export function createTextFormat(mediaType: string, extensions: readonly string[]): DocumentFormat {
  return {
    mediaType,
    extensions,
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal, options?: ReadOptions): Promise<Inspection> {
      throwIfCancelled(signal);
      await checkFileSize(path, limits);
      let pageCount = 0;
      let title: string | undefined;
      const seen: PagesSeen = { cutBySize: false, longPages: false };
      const starts = new Map<number, TextStart>();
      const encoding = await readPages(path, signal, (text, bySize, next) => {
        pageCount++;
        see(seen, text, bySize);
        // None past the limit: the inspection fails then, and a file of millions of form feeds would hold millions of starts first.
        if (next && pageCount <= Math.min(limits.maxPages, STARTS_KEPT)) starts.set(pageCount, next);
        if (mediaType === 'text/markdown' && title === undefined) title = markdownTitle(text);
        return true;
      });
      checkPageCount(pageCount, limits, seen.cutBySize ? TEXT_PAGES_CUT : undefined);
      // Kept for the chunks that read this file next: each starts at its first page.
      if (encoding) noteStarts(await fileKey(path, options?.sha256), encoding, starts, seen);
      const { cutBySize } = seen;
      const metadata: DocumentMetadata = { ...(title ? { title } : {}), ...(cutBySize ? { pagination: TEXT_SIZE_PAGINATION } : {}) };
      return { mediaType, pageCount, metadata };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal, options?: ReadOptions): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      const key = await fileKey(path, options?.sha256);
      const marks = marksOf(key);
      const start = marks && startBefore(marks, range.from);
      const counted = countedOtherwise(options);
      if (counted && marks && counted(marks)) throw pagesChanged(options);
      const out: Extraction = { pages: [], failures: [] };
      const starts = new Map<number, TextStart>();
      const seen: PagesSeen = { cutBySize: false, longPages: false };
      let index = start?.page ?? 0;
      const encoding = await readPages(path, signal, (text, bySize, next) => {
        see(seen, text, bySize);
        if (counted?.(seen)) throw pagesChanged(options);
        if (index >= range.from) out.pages.push({ page: index + 1, text });
        index++;
        if (next) starts.set(index, next);
        return index < range.to;
      }, start && marks ? { encoding: marks.encoding, at: start.at } : undefined);
      if (encoding) noteStarts(key, encoding, starts, seen);
      for (let missing = Math.max(index, range.from); missing < range.to; missing++) {
        out.failures.push({ page: missing + 1, code: 'invalid_text', message: `the text has ${index} pages, no page ${missing + 1}` });
      }
      if (out.pages.length === 0 && out.failures.length > 0) throw ReamError.nonRetryable('invalid_text', out.failures[0]?.message ?? 'no page could be read');
      return out;
    },
  };
}

/** Notes what `text`, a page just cut, tells of how other rules would have cut the file. */
function see(seen: PagesSeen, text: string, cutBySize: boolean): void {
  seen.cutBySize ||= cutBySize;
  seen.longPages ||= moreLinesThan(text, PAGE_LINES);
}

/** Whether `text` goes on past its `lines`th line end: where a page of the older rule ended. */
function moreLinesThan(text: string, lines: number): boolean {
  let at = -1;
  for (let line = 0; line < lines; line++) {
    at = text.indexOf('\n', at + 1);
    if (at === -1) return false;
  }
  return at < text.length - 1;
}

/**
 * When the document's pages were counted (`ReadOptions.inspected`) by a ream that cut texts
 * otherwise, whether pages seen so far are cut otherwise too. Before 01bb32f every text was cut
 * at its form feeds only (no size pagination in its metadata): read as pages cut by size, such a
 * document would lose all but its first 3,000 lines without a word. Before
 * {@link PAGE_MIN_CHARS}, a page of more lines than {@link PAGE_LINES} was cut at that line.
 * Undefined when the pages are cut as they were counted.
 */
function countedOtherwise(options: ReadOptions | undefined): ((seen: PagesSeen) => boolean) | undefined {
  const pagination = options?.inspected === undefined ? TEXT_SIZE_PAGINATION : options.inspected.pagination;
  if (pagination === TEXT_SIZE_PAGINATION) return undefined;
  if (pagination === LINES_PAGINATION) return (seen) => seen.longPages;
  return (seen) => seen.cutBySize;
}

function pagesChanged(options: ReadOptions | undefined): ReamError {
  const how = options?.inspected?.pagination === LINES_PAGINATION ? `a page after its ${PAGE_LINES.toLocaleString('en-US')}th line` : 'at its form feeds only';
  return ReamError.nonRetryable(
    'pages_changed',
    `this job counted the text's pages as an older ream cut them (${how}), and this one cuts them otherwise: the pages cannot be read as counted; submit the document in a new job`,
  );
}

/**
 * Streams `path` as strict UTF-8, or as UTF-16 when it starts with a UTF-16 byte order mark (what
 * Windows Notepad saves as "Unicode"), handing each page to `onPage` in order until it returns
 * false, with where the next page starts; the BOM is dropped. `invalid_text` for anything else,
 * as soon as it is met. `from`: start at a page start a read of the file found, in its encoding.
 * Gives the encoding read (none for an empty file).
 */
export async function readPages(
  path: string,
  signal: AbortSignal | undefined,
  onPage: (text: string, cutBySize: boolean, next?: TextStart) => boolean,
  from?: { encoding: TextEncoding; at: TextStart },
): Promise<TextEncoding | undefined> {
  let wanted = true;
  // The byte offset where `piece`, the decoded text being cut, starts in the file.
  let pieceByte = from?.at.byte ?? 0;
  let piece = '';
  let decoder: TextDecoder | undefined;
  // The bytes of `piece`'s first `measured.units` code units: a page start's offset is counted on
  // from the one before it in the piece, never from the piece's head again (a piece of 65,536
  // form feeds is 65,536 pages).
  let measured = { units: 0, bytes: 0 };
  const byteAt = (units: number): number => {
    if (units < measured.units) measured = { units: 0, bytes: 0 };
    measured = { units, bytes: measured.bytes + bytesOf(decoder, piece.slice(measured.units, units)) };
    return pieceByte + measured.bytes;
  };
  const pager = new TextPager((text, cutBySize, next) => {
    if (wanted) wanted = onPage(text, cutBySize, next && { byte: byteAt(next.at), closedBySize: next.closedBySize, afterCr: next.afterCr });
  }, from?.at);
  const stream = createReadStream(path, { start: pieceByte });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      throwIfCancelled(signal);
      if (!decoder) {
        // Within the file a U+FEFF is text, not a byte order mark: kept, as a whole read keeps it.
        decoder = from ? new TextDecoder(from.encoding, { fatal: true, ignoreBOM: true }) : decoderFor(chunk);
        if (!from) pieceByte = bomBytes(chunk, decoder);
      }
      if (decoder.encoding === 'utf-8' && chunk.includes(0)) throw ReamError.nonRetryable('invalid_text', 'the file contains NUL bytes: it is binary, not text');
      piece = decode(decoder, chunk);
      measured = { units: 0, bytes: 0 };
      pager.push(piece);
      if (!wanted) return decoder.encoding as TextEncoding;
      pieceByte += bytesOf(decoder, piece);
    }
    if (decoder) {
      piece = decode(decoder);
      measured = { units: 0, bytes: 0 };
      pager.push(piece);
    }
    pager.end();
    return decoder?.encoding as TextEncoding | undefined;
  } catch (error) {
    if (error instanceof ReamError) throw error;
    throw fileIoError('read', error);
  } finally {
    stream.destroy();
  }
}

/** The bytes of `text` as the file holds it. */
function bytesOf(decoder: TextDecoder | undefined, text: string): number {
  return decoder?.encoding === 'utf-8' ? Buffer.byteLength(text, 'utf8') : 2 * text.length;
}

/** The byte order mark's length at the file's head, which the decoder drops. */
function bomBytes(head: Uint8Array, decoder: TextDecoder): number {
  if (decoder.encoding !== 'utf-8') return 2;
  return head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
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
