// A cursor over a sheet's XML, row element by row element, before any XML parser sees it. A
// batch of rows 40,001–42,000 must not build the 40,000 rows before it (exceljs makes a Row of
// each, ~20 µs a row): the rows before the batch are only scanned for where they end, at the
// speed of `indexOf`. The sheet part is deflated, so a fresh read inflates it from its start;
// a cursor that stopped after a batch's last row is kept by its thread (xlsx-index.ts) and the
// thread's next batch goes on from there, so a thread inflates a sheet about once, however
// many batches it reads (100,000 rows in batches of 2,000: each batch began from the top, and
// the sheet's XML was inflated 25 times over).
//
// Cutting on `<` alone is sound for what a sheet holds: text and attribute values carry `<` only
// as `&lt;` (XML 1.0 §2.4, §3.1), so every `<` starts a tag, a comment, a CDATA section or a
// processing instruction. The three last are stepped over whole, so a `<row` written inside one
// is not taken for a row. Row elements do not nest, and a row's end is `</row>` or its `/>`.

/** What follows `<row` in a row's start tag (not `<rowBreaks>`, which is another element). */
const AFTER_ROW_NAME = /[\s/>]/;
/** What follows `</row` in a row's end tag. */
const AFTER_END_NAME = /[\s>]/;

/** A markup that may hold `<row` as text, and where it ends. */
const OPAQUE: ReadonlyArray<readonly [start: string, end: string]> = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
];

/** The longest opening looked at (`<![CDATA[`): a `<` closer than this to the text's end waits for more text. */
const LOOKAHEAD = 9;

/** Where the scan is: between rows, in a row's start tag, in a row, in a comment, CDATA or instruction. */
type Phase = 'outside' | 'rowTag' | 'row' | 'opaque';
/** What a scan stopped at. */
type Stop = 'start' | 'end' | 'more';

/**
 * A sheet's XML read forward by row elements: {@link skip} passes rows unparsed, {@link elements}
 * hands the text to a parser, the sheet's head (what comes before its first row: its columns,
 * `<sheetData>`) first, then one row element per step, so that a parser that stops after a row has
 * taken nothing past it and another read can go on from {@link position}.
 */
export class RowCursor {
  readonly #chunks: AsyncIterator<Buffer | string>;
  readonly #decoder = new TextDecoder('utf-8');
  /** Text read and not handed on yet; everything before `#kept` is in `#parts` or dropped. */
  #text = '';
  #kept = 0;
  /** Where the scan goes on in `#text`. */
  #scan = 0;
  /** The current piece's text before `#kept`, when collecting (a piece: the text before a row, and the row). */
  #parts: string[] = [];
  #collect = true;
  #phase: Phase = 'outside';
  #opaque: { end: string; back: 'outside' | 'row' } = { end: '', back: 'outside' };
  /** The next `<!` or `<?` found in `#text` (-1: none), and where a search for the next one starts again. */
  #special = -1;
  #specialFrom = 0;
  #ended = false;
  #head: string | undefined;
  #position = 0;
  #exhausted = false;

  constructor(chunks: AsyncIterable<Buffer | string>) {
    this.#chunks = chunks[Symbol.asyncIterator]();
  }

  /** Row elements passed so far, skipped or handed on. */
  get position(): number {
    return this.#position;
  }

  /** Whether a read found no row left. */
  get exhausted(): boolean {
    return this.#exhausted;
  }

  /** Passes the next `count` row elements unparsed (fewer if the sheet ends first). */
  async skip(count: number): Promise<void> {
    await this.#readHead();
    for (let i = 0; i < count; i++) if ((await this.#nextRow(false)) === undefined) return;
  }

  /**
   * The sheet's text from here, for a parser: its head, then each row element (with the text
   * before it) as a step of its own, then what follows the last row.
   */
  async *elements(): AsyncGenerator<string> {
    yield await this.#readHead();
    for (;;) {
      const piece = await this.#nextRow(true);
      if (piece === undefined) break;
      yield piece;
    }
    const tail = this.#take(this.#text.length);
    if (tail !== '') yield tail;
  }

  async #readHead(): Promise<string> {
    if (this.#head === undefined) {
      this.#collect = true;
      const found = await this.#scanTo();
      this.#head = this.#take(found === 'start' ? this.#scan : this.#text.length);
    }
    return this.#head;
  }

  /** The next row element with the text before it (`''` when not collecting); undefined at the text's end. */
  async #nextRow(collect: boolean): Promise<string | undefined> {
    this.#collect = collect;
    // At the text's end: no row left, or one cut off (left for the parser to take as text).
    if ((this.#phase !== 'rowTag' && (await this.#scanTo()) !== 'start') || (await this.#scanTo()) !== 'end') {
      this.#exhausted = true;
      return undefined;
    }
    this.#position++;
    return this.#take(this.#scan);
  }

  /** The current piece up to `end`; the next one starts there. */
  #take(end: number): string {
    const piece = this.#collect ? this.#parts.join('') + this.#text.slice(this.#kept, end) : '';
    this.#parts = [];
    this.#kept = end;
    return piece;
  }

  /** Scans, reading more text as needed, to the next row's start or end; 'more' when the text ended first. */
  async #scanTo(): Promise<Stop> {
    for (;;) {
      const stop = this.#scanText();
      if (stop !== 'more' || this.#ended) return stop;
      await this.#read();
    }
  }

  /** Appends the next chunk, first letting go of the text before the scan (kept in `#parts` when collecting). */
  async #read(): Promise<void> {
    const cut = this.#scan;
    if (this.#collect && cut > this.#kept) this.#parts.push(this.#text.slice(this.#kept, cut));
    const next = await this.#chunks.next();
    let more: string;
    if (next.done === true) {
      this.#ended = true;
      more = this.#decoder.decode();
    } else {
      more = typeof next.value === 'string' ? next.value : this.#decoder.decode(next.value, { stream: true });
    }
    this.#text = this.#text.slice(cut) + more;
    this.#scan = 0;
    this.#kept = 0;
    this.#special = this.#special >= cut ? this.#special - cut : -1;
    this.#specialFrom = Math.max(0, this.#specialFrom - cut);
  }

  /** The scan over the text read so far: stops at a row's start (the `<` of `<row`) or just past its end. */
  #scanText(): Stop {
    const text = this.#text;
    const ended = this.#ended;
    for (;;) {
      switch (this.#phase) {
        case 'opaque': {
          const { end, back } = this.#opaque;
          const close = text.indexOf(end, this.#scan);
          if (close === -1) {
            this.#scan = Math.max(this.#scan, text.length - end.length + 1);
            return 'more';
          }
          this.#scan = close + end.length;
          this.#phase = back;
          break;
        }
        case 'outside': {
          const open = text.indexOf('<', this.#scan);
          if (open === -1) {
            this.#scan = text.length;
            return 'more';
          }
          this.#scan = open;
          if (!ended && text.length - open < LOOKAHEAD) return 'more';
          if (this.#enterOpaque(open, 'outside')) break;
          if (text.startsWith('<row', open) && AFTER_ROW_NAME.test(text.charAt(open + 4))) {
            this.#phase = 'rowTag';
            return 'start';
          }
          this.#scan = open + 1;
          break;
        }
        case 'rowTag': {
          const end = tagEnd(text, this.#scan);
          if (end === -1) return 'more'; // the tag is scanned again with more text: tags are short
          this.#scan = end;
          if (text.charAt(end - 2) === '/') {
            this.#phase = 'outside';
            return 'end';
          }
          this.#phase = 'row';
          break;
        }
        case 'row': {
          // A row's end is looked for with one `indexOf`, not tag by tag; comments, CDATA and
          // instructions inside it are found once each (`#nextSpecial`).
          const close = text.indexOf('</row', this.#scan);
          const special = this.#nextSpecial(this.#scan);
          if (special !== -1 && (close === -1 || special < close)) {
            this.#scan = special;
            if (!ended && text.length - special < LOOKAHEAD) return 'more';
            if (!this.#enterOpaque(special, 'row')) this.#scan = special + 1;
            break;
          }
          if (close === -1) {
            this.#scan = Math.max(this.#scan, text.length - LOOKAHEAD);
            return 'more';
          }
          this.#scan = close;
          if (!ended && text.length - close < LOOKAHEAD) return 'more';
          if (!AFTER_END_NAME.test(text.charAt(close + 5))) {
            this.#scan = close + 1;
            break;
          }
          const gt = text.indexOf('>', close);
          if (gt === -1) return 'more';
          this.#scan = gt + 1;
          this.#phase = 'outside';
          return 'end';
        }
      }
    }
  }

  /** Steps into the comment, CDATA or instruction at `open`, if one starts there. */
  #enterOpaque(open: number, back: 'outside' | 'row'): boolean {
    const second = this.#text.charCodeAt(open + 1);
    if (second !== 0x21 && second !== 0x3f) return false; // `<!`, `<?`
    const found = OPAQUE.find(([start]) => this.#text.startsWith(start, open));
    if (!found) return false;
    this.#opaque = { end: found[1], back };
    this.#phase = 'opaque';
    this.#scan = open + found[0].length;
    return true;
  }

  /** The next `<!` or `<?` at or after `from` in the text read so far, or -1; each searched for once. */
  #nextSpecial(from: number): number {
    if (this.#special >= from) return this.#special;
    const text = this.#text;
    // A `<` at the end of the text searched before may begin one with the text read since.
    const start = Math.max(from, this.#specialFrom - 1);
    const bang = text.indexOf('<!', start);
    const question = text.indexOf('<?', start);
    this.#special = bang === -1 ? question : question === -1 ? bang : Math.min(bang, question);
    this.#specialFrom = this.#special === -1 ? text.length : this.#special + 1;
    return this.#special;
  }
}

/** Where the tag at `open` ends (after its `>`), a `>` inside a quoted attribute value not counted; -1 if not in `text`. */
function tagEnd(text: string, open: number): number {
  let quote = '';
  for (let i = open + 1; i < text.length; i++) {
    const char = text[i];
    if (quote !== '') {
      if (char === quote) quote = '';
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '>') {
      return i + 1;
    }
  }
  return -1;
}
