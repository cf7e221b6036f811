// Cuts a text stream into pages as it is read, so neither a whole file nor its whole text is
// ever held: a 60 MB log without form feeds is some 600 pages of at most PAGE_HARD_CHARS each,
// whose chunks run in parallel, not one page read whole. Each page's start is told as a place in
// the text the pager was given, with what the pager knew there, so that a later read can start
// at a page rather than at the top of the file and cut the same pages (text-marks.ts).

/** A page ends at the line end that makes it this many lines long, or longer, once it holds {@link PAGE_MIN_CHARS}. */
export const PAGE_LINES = 3_000;
/**
 * Characters a page holds before its lines can end it: a text of one-character lines is pages of
 * 12,500 lines, not 3,000 (10 million such lines: 800 pages rather than 3,334), so that a page
 * count follows a text's size, as `maxPages` expects, not its line count.
 */
export const PAGE_MIN_CHARS = 25_000;
/** A page ends at the first line end once it holds this many characters (UTF-16 code units). */
export const PAGE_CHARS = 100_000;
/** A line that would carry a page past this many characters is cut there: no page is larger. */
export const PAGE_HARD_CHARS = 2 * PAGE_CHARS;

/** What the pager knows where a page starts, besides the place: all a pager started there needs to cut the same pages. */
export interface PagerState {
  /** The page before was closed by its size: a form feed right here opens no empty page. */
  closedBySize: boolean;
  /** The page before ended at a `\r`: a `\n` right here is the rest of that line end. */
  afterCr: boolean;
}

/**
 * Where the page after the one just handed over starts: `at` code units into the piece being
 * pushed (the piece's length: right after it). Absent for the text's last page.
 */
export type NextPage = PagerState & { at: number };

/**
 * Receives decoded text in pieces of any size and hands each page to `onPage` as soon as it is
 * whole. Pages are split at form feeds (the form feed belongs to no page), and at a line end once
 * a page reaches {@link PAGE_LINES} lines and {@link PAGE_MIN_CHARS} characters, or
 * {@link PAGE_CHARS} characters (the line end stays on the page it ends). Line ends (`\n`, `\r\n`, `\r`) become `\n`, even a `\r\n` cut between two pieces.
 */
export class TextPager {
  private parts: string[] = [];
  private chars = 0;
  private lines = 0;
  private pages = 0;
  private afterCr: boolean;
  /** Its own: `lastIndex` is the scan's position. */
  private readonly breaks = /[\n\r\f]/g;
  /** The last page was closed by its size, so a form feed right after it opens no empty page. */
  private closedBySize: boolean;

  private readonly onPage: (text: string, cutBySize: boolean, next?: NextPage) => void;

  /**
   * `onPage` is told whether the page was ended by its size rather than by a form feed or the
   * text's end, and where the next page starts. `start`: the state a page start was told with,
   * when the text given starts there rather than at the file's top.
   */
  constructor(onPage: (text: string, cutBySize: boolean, next?: NextPage) => void, start?: PagerState) {
    this.onPage = onPage;
    this.closedBySize = start?.closedBySize ?? false;
    this.afterCr = start?.afterCr ?? false;
    // Started after a page: at the text's end (a start noted there, after a last cut or form feed) there is no page of its own.
    if (start) this.pages = 1;
  }

  push(text: string): void {
    let at = 0;
    if (this.afterCr && text.length > 0) {
      this.afterCr = false;
      if (text[0] === '\n') at = 1;
    }
    this.breaks.lastIndex = at;
    while (at < text.length) {
      const found = this.breaks.exec(text);
      const stop = found ? found.index : text.length;
      this.take(text, at, stop);
      if (!found) break;
      at = stop + 1;
      if (text[stop] === '\f') {
        if (this.chars > 0 || !this.closedBySize) this.close(false, at);
        this.closedBySize = false;
      } else {
        if (text[stop] === '\r') {
          if (at === text.length) this.afterCr = true;
          else if (text[at] === '\n') at++;
        }
        this.add('\n');
        this.lines++;
        if ((this.lines >= PAGE_LINES && this.chars >= PAGE_MIN_CHARS) || this.chars >= PAGE_CHARS) this.close(true, at);
      }
      this.breaks.lastIndex = at;
    }
  }

  /** The end of the text. A form feed or size cut that ends it closes the last page rather than opening an empty one. */
  end(): void {
    this.afterCr = false;
    if (this.chars > 0 || this.pages === 0) this.close(false);
  }

  /** Adds `text[from, to)` (no line end in it), cutting pages at {@link PAGE_HARD_CHARS}. */
  private take(text: string, from: number, to: number): void {
    let at = from;
    while (to - at > PAGE_HARD_CHARS - this.chars) {
      let cut = at + PAGE_HARD_CHARS - this.chars;
      // Never between the halves of a surrogate pair: the character goes to the next page whole.
      if (cut > at && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      this.add(text.slice(at, cut));
      this.close(true, cut);
      at = cut;
    }
    if (to > at) this.add(text.slice(at, to));
  }

  private add(text: string): void {
    this.parts.push(text);
    this.chars += text.length;
    this.closedBySize = false;
  }

  /** `next`: where the next page starts in the piece being pushed; undefined at the text's end. */
  private close(bySize: boolean, next?: number): void {
    const page = this.parts.join('');
    this.parts = [];
    this.chars = 0;
    this.lines = 0;
    this.pages++;
    this.closedBySize = bySize;
    this.onPage(page, bySize, next === undefined ? undefined : { at: next, closedBySize: bySize, afterCr: this.afterCr });
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
