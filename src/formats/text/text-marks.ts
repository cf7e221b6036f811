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
  /** By 0-based page: where that page starts (page 0, the file's top, is never noted). */
  starts: Map<number, TextStart>;
}

/** Files whose marks this process keeps (the most recently read). */
const FILES_KEPT = 8;
/** Page starts kept per file: far past any `maxPages` a text is read with in practice. */
export const STARTS_KEPT = 200_000;

const files = new Map<string, TextMarks>();

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
    if (at) return { page, at };
  }
  return undefined;
}

/** Adds what a read found (page starts, by page) to the file's marks, making them if it has none. */
export function noteStarts(key: string, encoding: TextEncoding, found: ReadonlyMap<number, TextStart>, seen: PagesSeen): void {
  let marks = marksOf(key);
  if (!marks || marks.encoding !== encoding) {
    marks = { encoding, starts: new Map(), cutBySize: false, longPages: false };
    files.set(key, marks);
    for (const old of files.keys()) {
      if (files.size <= FILES_KEPT) break;
      files.delete(old);
    }
  }
  marks.cutBySize ||= seen.cutBySize;
  marks.longPages ||= seen.longPages;
  for (const [page, at] of found) {
    if (marks.starts.size >= STARTS_KEPT) break;
    marks.starts.set(page, at);
  }
}
