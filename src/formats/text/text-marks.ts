// Where the pages of recently read text files start, kept by this process. A chunk reads pages
// `from`–`to` of a text; without marks it must decode and cut every page before `from`, so a
// file of N pages in chunks of B pages costs N²/2B pages read in all (a 200 MB log: 40 chunks,
// 4 GB read). An inspection notes the byte offset of every page it passes, as does each read,
// and a read starts at the nearest page start before its range instead. A mark holds what the
// pager knew there (text-pages.ts), so a read started at it cuts exactly the pages a whole read
// does. A read in another process (distributed workers) notes its own as it goes.
import type { PagerState } from './text-pages.ts';

/** The text encodings a file is read in (text-format.ts). */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** A page's start: its byte offset in the file, and the pager's state there. */
export type TextStart = PagerState & { byte: number };

/** What the pages read show of how the file's pages were cut (text-format.ts tells older cuts by them). */
export interface PagesSeen {
  /** A page was cut by its size. */
  cutBySize: boolean;
  /** A page holds more than `PAGE_LINES` lines. */
  longPages: boolean;
}

/** Seen holds for the pages before every page start noted: each was noted by a read that passed those since the last. */
export interface TextMarks extends PagesSeen {
  encoding: TextEncoding;
  /** By 0-based page: where that page starts, packed (see {@link pack}); page 0, the file's top, is never noted. */
  starts: Map<number, number>;
}

/**
 * Bytes of heap a noted page start takes (a Map entry of two numbers, as measured on Node 24:
 * 52; a start kept as an object took 100), and a file's marks besides their starts. The
 * estimate, not the heap, is what {@link MARKS_MAX_BYTES} bounds.
 */
export const START_BYTES = 56;
const FILE_BYTES = 512;
/**
 * Bytes of marks this process keeps at most, over all files: some 300,000 page starts, thirty
 * 10,000-page texts. Past it the least recently read files' marks go (a later chunk of theirs
 * decodes from the file's top or from a start it finds itself); a file alone over it keeps the
 * starts of its first pages. Kept by page count alone (200,000 starts for each of 8 files),
 * they could take 154 MB of every worker's heap.
 */
export const MARKS_MAX_BYTES = 16 * 1024 * 1024;
/** Page starts an inspection keeps: as many as the marks can hold. */
export const STARTS_KEPT = Math.floor((MARKS_MAX_BYTES - FILE_BYTES) / START_BYTES);

/** By file version, least recently read first (a Map's order: a read re-inserts its file). */
const files = new Map<string, TextMarks>();
let keptBytes = 0;

function bytesOf(marks: TextMarks): number {
  return FILE_BYTES + marks.starts.size * START_BYTES;
}

/** The estimated bytes of all marks kept (never more than {@link MARKS_MAX_BYTES}). */
export function marksBytes(): number {
  return keptBytes;
}

/** Drops every file's marks (tests). */
export function forgetMarks(): void {
  files.clear();
  keptBytes = 0;
}

/**
 * A start in one number: its byte offset times four, plus its two flags. A Map of numbers takes
 * half the heap of a Map of objects, and offsets stay far below 2^51.
 */
function pack(start: TextStart): number {
  return start.byte * 4 + (start.closedBySize ? 2 : 0) + (start.afterCr ? 1 : 0);
}

function unpack(packed: number): TextStart {
  const flags = packed % 4;
  return { byte: (packed - flags) / 4, closedBySize: flags >= 2, afterCr: flags % 2 === 1 };
}

/** The marks of the file version `key` (file-key.ts), if a read of it in this process noted any. */
export function marksOf(key: string): TextMarks | undefined {
  const marks = files.get(key);
  if (marks) {
    files.delete(key); // re-inserted: the Map's order is the recency order
    files.set(key, marks);
  }
  return marks;
}

/** The page start nearest at or before page `from` (0-based), if one is noted. */
export function startBefore(marks: TextMarks, from: number): { page: number; at: TextStart } | undefined {
  for (let page = from; page > 0; page--) {
    const at = marks.starts.get(page);
    if (at !== undefined) return { page, at: unpack(at) };
  }
  return undefined;
}

/** Adds what a read found (page starts, by page) to the file's marks, making them if it has none. */
export function noteStarts(key: string, encoding: TextEncoding, found: ReadonlyMap<number, TextStart>, seen: PagesSeen): void {
  let marks = marksOf(key);
  if (marks && marks.encoding !== encoding) {
    keptBytes -= bytesOf(marks);
    files.delete(key);
    marks = undefined;
  }
  if (!marks) {
    // Room made first: a file noted with no starts (a one-page text) still takes its bytes, and
    // a worker reading millions of small texts must not keep one entry for each.
    makeRoom(key, FILE_BYTES);
    marks = { encoding, starts: new Map(), cutBySize: false, longPages: false };
    files.set(key, marks);
    keptBytes += FILE_BYTES;
  }
  marks.cutBySize ||= seen.cutBySize;
  marks.longPages ||= seen.longPages;
  for (const [page, at] of found) {
    if (marks.starts.has(page)) continue;
    // Room made from the least recently read files; this one's own first starts are never given up for its later ones.
    if (!makeRoom(key, START_BYTES)) break;
    marks.starts.set(page, pack(at));
    keptBytes += START_BYTES;
  }
}

/** Drops the least recently read files' marks (never `keeping`'s) until `bytes` more fit; whether they do. */
function makeRoom(keeping: string, bytes: number): boolean {
  for (const [key, marks] of files) {
    if (keptBytes + bytes <= MARKS_MAX_BYTES) break;
    if (key === keeping) continue;
    keptBytes -= bytesOf(marks);
    files.delete(key);
  }
  return keptBytes + bytes <= MARKS_MAX_BYTES;
}
