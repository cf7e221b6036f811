// DOCX and XLSX files are ZIP archives. Which one a ZIP is, is told by its directory (the
// central directory at the end of the file), not by its name or by the first entries only:
// `word/document.xml` makes a Word document, `xl/workbook.xml` a workbook. The directory also
// declares every entry's size, so a decompression bomb is refused (`resource_limit`) before a
// byte of it is inflated; its end record declares how many entries there are, so an archive of
// tens of thousands is refused before the directory is read (zip-entry-count.ts). An archive that lies about its sizes still meets the pool thread's
// memory cap while it is read.
import { Transform, type Readable } from 'node:stream';
import type { CentralDirectoryFile } from 'unzipper';
import { ReamError, type ErrorCode } from '../../errors.ts';
import { DOCX_MEDIA_TYPE, XLSX_MEDIA_TYPE } from '../sniff.ts';
import { checkZipEntryCount } from './zip-entry-count.ts';

const MB = 1024 * 1024;

/** Most bytes all entries may inflate to together: far above real office files (a few MB of XML). */
export const MAX_UNZIPPED_BYTES = 256 * MB;
/**
 * Highest compression ratio an entry over {@link RATIO_CHECKED_FROM} may declare. Office XML
 * compresses 5–30×, a sheet of repeated rows up to ~100×; a deflate bomb sits near 1000×.
 */
export const MAX_COMPRESSION_RATIO = 200;
export const RATIO_CHECKED_FROM = 16 * MB;

/** The archive's entries, from its central directory; `invalid` names the code for a file that is no readable ZIP. */
export async function zipEntries(path: string, invalid: ErrorCode): Promise<CentralDirectoryFile[]> {
  try {
    await checkZipEntryCount(path);
    // Loaded when a zip is met: each pool thread would otherwise load it at start (~0.25 s), ZIP files or not.
    const { Open } = await import('unzipper');
    return (await Open.file(path)).files;
  } catch (error) {
    if (error instanceof ReamError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // unzipper's word for an archive whose end holds no directory: most often a file cut short.
    if (message === 'FILE_ENDED') {
      throw ReamError.nonRetryable(invalid, 'the file is cut short or damaged: a ZIP archive ends with its directory of entries, and this one has none (was its download or copy interrupted?)', { cause: error });
    }
    throw ReamError.nonRetryable(invalid, `the file is not a readable ZIP archive: ${message}`, { cause: error });
  }
}

/**
 * Pictures and embedded objects of a Word document or a workbook: the text never holds them and
 * ream never inflates them, so they may be as large, and compress as well, as they are (a page of
 * white scanned at 600 DPI compresses 1000×; a report of photos weighs hundreds of MB).
 */
const NEVER_INFLATED = /^(word|xl)\/(media|embeddings)\//;

/**
 * Throws `resource_limit` when the declared sizes of the entries ream may inflate make a bomb
 * (see the limits above). Pictures are left out here by their path; what decides is what is read:
 * every entry ream inflates is checked again as it is opened ({@link entryStream}), so a document
 * whose relationships name a part under `word/media/` as its text gets no pass.
 */
export function checkZipSizes(files: readonly CentralDirectoryFile[]): void {
  let total = 0;
  for (const file of files) {
    if (NEVER_INFLATED.test(file.path)) continue;
    checkEntrySize(file);
    total += file.uncompressedSize;
  }
  if (total > MAX_UNZIPPED_BYTES) {
    throw ReamError.nonRetryable('resource_limit', `the archive inflates to ${total} bytes; ream reads at most ${MAX_UNZIPPED_BYTES}`, {
      details: { uncompressedSize: total, maxUncompressedSize: MAX_UNZIPPED_BYTES },
    });
  }
}

/** Throws `resource_limit` when one entry's declared sizes make a bomb: past the ratio, or past the whole read limit alone. */
function checkEntrySize(file: CentralDirectoryFile): void {
  const ratio = file.uncompressedSize / Math.max(1, file.compressedSize);
  if (file.uncompressedSize > RATIO_CHECKED_FROM && ratio > MAX_COMPRESSION_RATIO) {
    throw ReamError.nonRetryable('resource_limit', `the archive's entry ${file.path} inflates ${Math.round(ratio)}× (to ${file.uncompressedSize} bytes); ream refuses more than ${MAX_COMPRESSION_RATIO}× (a decompression bomb)`, {
      details: { entry: file.path, uncompressedSize: file.uncompressedSize, compressedSize: file.compressedSize, maxRatio: MAX_COMPRESSION_RATIO },
    });
  }
  if (file.uncompressedSize > MAX_UNZIPPED_BYTES) {
    throw ReamError.nonRetryable('resource_limit', `the archive's entry ${file.path} inflates to ${file.uncompressedSize} bytes; ream reads at most ${MAX_UNZIPPED_BYTES}`, {
      details: { entry: file.path, uncompressedSize: file.uncompressedSize, maxUncompressedSize: MAX_UNZIPPED_BYTES },
    });
  }
}

/** What a ZIP archive is, from its entries: a media type ream reads, or words for one it does not. */
export function containerType(files: readonly CentralDirectoryFile[]): { mediaType: string } | { what: string } {
  const has = (name: string): boolean => files.some((f) => f.path === name);
  const under = (dir: string): boolean => files.some((f) => f.path.startsWith(dir));
  if (has('word/document.xml')) return { mediaType: DOCX_MEDIA_TYPE };
  if (has('xl/workbook.xml')) return { mediaType: XLSX_MEDIA_TYPE };
  if (under('ppt/')) return { what: 'a PowerPoint presentation (PPTX)' };
  if (has('mimetype') && has('content.xml')) return { what: 'an OpenDocument file (ODT, ODS or ODP)' };
  if (has('META-INF/container.xml')) return { what: 'an EPUB book' };
  if (has('META-INF/MANIFEST.MF')) return { what: 'a Java archive (JAR)' };
  return { what: 'a ZIP archive that is neither a Word document nor a workbook' };
}

const EXPECTED: Readonly<Record<string, { code: ErrorCode; what: string; entry: string }>> = {
  [DOCX_MEDIA_TYPE]: { code: 'invalid_docx', what: 'a Word document', entry: 'word/document.xml' },
  [XLSX_MEDIA_TYPE]: { code: 'invalid_sheet', what: 'an XLSX workbook', entry: 'xl/workbook.xml' },
};

/**
 * The media type of the ZIP at `path`, which its first bytes or its name made look like
 * `sniffed` (DOCX or XLSX): the other one when its directory says so (content beats the name),
 * else `sniffed` itself. Throws `resource_limit` for a bomb and the sniffed type's code
 * (`invalid_docx`, `invalid_sheet`) naming what the archive really is.
 */
export async function zipMediaType(path: string, sniffed: string): Promise<string> {
  const expected = EXPECTED[sniffed];
  if (!expected) return sniffed;
  const files = await zipEntries(path, expected.code);
  checkZipSizes(files);
  const found = containerType(files);
  if ('mediaType' in found) return found.mediaType;
  throw ReamError.nonRetryable(expected.code, `the file is not ${expected.what} (it has no ${expected.entry}): it is ${found.what}`, {
    details: { detected: found.what },
  });
}

/**
 * One entry's bytes as a stream, at most its declared size: an archive whose entry inflates past
 * what its directory said is lying, and the stream fails (`resource_limit`) as soon as it does,
 * before more of it is inflated. Destroying the stream stops the inflating.
 */
export function entryStream(file: CentralDirectoryFile): Readable {
  checkEntrySize(file);
  const source = file.stream();
  let length = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      length += chunk.length;
      if (length <= file.uncompressedSize) return done(null, chunk);
      done(ReamError.nonRetryable('resource_limit', `the archive's entry ${file.path} inflates past the ${file.uncompressedSize} bytes its directory declares`, {
        details: { entry: file.path, declared: file.uncompressedSize },
      }));
    },
  });
  source.on('error', (error) => limited.destroy(error));
  limited.on('close', () => source.destroy());
  return source.pipe(limited);
}

/** The bytes of one entry, at most its declared size (see {@link entryStream}). */
export async function readEntry(file: CentralDirectoryFile): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = entryStream(file);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}
