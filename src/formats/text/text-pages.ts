// Cuts a text stream into pages as it is read, so neither a whole file nor its whole text is
// ever held: a 60 MB log without form feeds is some 600 pages of at most PAGE_HARD_CHARS each,
// whose chunks run in parallel, not one page read whole.

/** A page ends at the line end that makes it this many lines long. */
export const PAGE_LINES = 3_000;
/** A page ends at the first line end once it holds this many characters (UTF-16 code units). */
export const PAGE_CHARS = 100_000;
/** A line that would carry a page past this many characters is cut there: no page is larger. */
export const PAGE_HARD_CHARS = 2 * PAGE_CHARS;

/**
 * Receives decoded text in pieces of any size and hands each page to `onPage` as soon as it is
 * whole. Pages are split at form feeds (the form feed belongs to no page), and at a line end once
 * a page reaches {@link PAGE_LINES} lines or {@link PAGE_CHARS} characters (the line end stays on
 * the page it ends). Line ends become `\n`, even a `\r\n` cut between two pieces.
 */
export class TextPager {
  private parts: string[] = [];
  private chars = 0;
  private lines = 0;
  private pendingCr = false;
  private pages = 0;
  /** Its own: `lastIndex` is the scan's position. */
  private readonly breaks = /[\n\f]/g;
  /** The last page was closed by its size, so a form feed right after it opens no empty page. */
  private closedBySize = false;

  private readonly onPage: (text: string, cutBySize: boolean) => void;

  /** `onPage` is told whether the page was ended by its size rather than by a form feed or the text's end. */
  constructor(onPage: (text: string, cutBySize: boolean) => void) {
    this.onPage = onPage;
  }

  push(piece: string): void {
    let text = this.pendingCr ? `\r${piece}` : piece;
    this.pendingCr = text.endsWith('\r');
    if (this.pendingCr) text = text.slice(0, -1);
    this.scan(text.replace(/\r\n?/g, '\n'));
  }

  /** The end of the text. A form feed or size cut that ends it closes the last page rather than opening an empty one. */
  end(): void {
    if (this.pendingCr) this.scan('\n');
    this.pendingCr = false;
    if (this.chars > 0 || this.pages === 0) this.close(false);
  }

  private scan(text: string): void {
    let at = 0;
    this.breaks.lastIndex = 0;
    while (at < text.length) {
      const found = this.breaks.exec(text);
      const stop = found ? found.index : text.length;
      this.take(text, at, stop);
      if (!found) break;
      if (text[stop] === '\f') {
        if (this.chars > 0 || !this.closedBySize) this.close(false);
        this.closedBySize = false;
      } else {
        this.add('\n');
        this.lines++;
        if (this.lines >= PAGE_LINES || this.chars >= PAGE_CHARS) this.close(true);
      }
      at = stop + 1;
      this.breaks.lastIndex = at;
    }
  }

  /** Adds `text[from, to)` (no line end in it), cutting pages at {@link PAGE_HARD_CHARS}. */
  private take(text: string, from: number, to: number): void {
    let at = from;
    while (to - at > PAGE_HARD_CHARS - this.chars) {
      let cut = at + PAGE_HARD_CHARS - this.chars;
      // Never between the halves of a surrogate pair: the character goes to the next page whole.
      if (cut > at && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
      this.add(text.slice(at, cut));
      this.close(true);
      at = cut;
    }
    if (to > at) this.add(text.slice(at, to));
  }

  private add(text: string): void {
    this.parts.push(text);
    this.chars += text.length;
    this.closedBySize = false;
  }

  private close(bySize: boolean): void {
    const page = this.parts.join('');
    this.parts = [];
    this.chars = 0;
    this.lines = 0;
    this.pages++;
    this.closedBySize = bySize;
    this.onPage(page, bySize);
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
