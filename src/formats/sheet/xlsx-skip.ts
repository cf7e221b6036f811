// A sheet's XML with its first N `<row>` elements cut out, before any XML parser sees it. A
// batch of rows 40,001–42,000 must not build the 40,000 rows before it (exceljs makes a Row of
// each, ~20 µs a row): the sheet part is deflated, so it is still inflated from its start, but
// the rows before the batch are only scanned for where they end, at the speed of `indexOf`.
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

/** The longest opening looked at (`<![CDATA[`): a `<` closer than this to a chunk's end waits for the next chunk. */
const LOOKAHEAD = 9;

/**
 * The text of `chunks` (UTF-8, decoded across chunk bounds) without its first `skip` row
 * elements; everything else (the sheet's head, later rows, what follows the rows) as it is.
 */
export async function* withoutFirstRows(chunks: AsyncIterable<Buffer | string>, skip: number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let left = skip;
  let pending = '';
  let inRow = false;
  for await (const chunk of chunks) {
    const text = pending + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (left === 0) {
      pending = '';
      if (text !== '') yield text;
      continue;
    }
    const cut = cutRows(text, left, inRow, false);
    left = cut.left;
    inRow = cut.inRow;
    pending = cut.pending;
    if (cut.kept !== '') yield cut.kept;
  }
  const rest = pending + decoder.decode();
  if (rest === '') return;
  if (left === 0) {
    yield rest;
    return;
  }
  const cut = cutRows(rest, left, inRow, true);
  if (cut.kept + cut.pending !== '') yield cut.kept + cut.pending;
}

interface Cut {
  /** The text kept, in order. */
  kept: string;
  /** The text not decided yet (a markup cut by the chunk's end), to go before the next chunk. */
  pending: string;
  left: number;
  inRow: boolean;
}

/** One chunk's pass: cuts up to `left` rows out of `text`, keeping what is outside them. */
function cutRows(text: string, left: number, inRow: boolean, atEnd: boolean): Cut {
  let kept = '';
  let at = 0;
  // A markup the chunk ends inside of: waits for the next chunk, or at the end is text as it is.
  const undecided = (open: number): Cut =>
    atEnd ? { kept: inRow ? kept : kept + text.slice(open), pending: '', left, inRow } : { kept, pending: text.slice(open), left, inRow };
  // The next `<!` or `<?` (a comment, CDATA, instruction), found again only once passed: a row's
  // end is then looked for with one `indexOf`, not tag by tag.
  let special = -1;
  const nextSpecial = (from: number): number => {
    if (special !== -1 && special < from) special = -1;
    if (special === -1) {
      const bang = text.indexOf('<!', from);
      const question = text.indexOf('<?', from);
      special = bang === -1 ? question : question === -1 ? bang : Math.min(bang, question);
      if (special === -1) special = text.length;
    }
    return special;
  };
  while (left > 0) {
    const open = inRow ? Math.min(endOfRow(text, at), nextSpecial(at)) : text.indexOf('<', at);
    if (open === -1 || open >= text.length) {
      // No row end in this chunk: keep its last few characters, which may start one.
      if (inRow) return atEnd ? { kept, pending: '', left, inRow } : { kept, pending: text.slice(Math.max(at, text.length - LOOKAHEAD)), left, inRow };
      return { kept: kept + text.slice(at), pending: '', left, inRow };
    }
    if (!inRow) kept += text.slice(at, open);
    if (!atEnd && text.length - open < LOOKAHEAD) return undecided(open);
    const second = text.charCodeAt(open + 1);
    const opaque = second === 0x21 || second === 0x3f ? OPAQUE.find(([start]) => text.startsWith(start, open)) : undefined;
    if (opaque) {
      const close = text.indexOf(opaque[1], open + opaque[0].length);
      if (close === -1) return undecided(open);
      at = close + opaque[1].length;
      if (!inRow) kept += text.slice(open, at);
    } else if (inRow) {
      at = open + 1;
      if (!text.startsWith('</row', open) || !AFTER_END_NAME.test(text.charAt(open + 5))) continue;
      const close = text.indexOf('>', open);
      if (close === -1) return undecided(open);
      at = close + 1;
      inRow = false;
      left--;
    } else if (text.startsWith('<row', open) && AFTER_ROW_NAME.test(text.charAt(open + 4))) {
      const end = tagEnd(text, open);
      if (end === -1) return undecided(open);
      if (text.charAt(end - 2) === '/') left--;
      else inRow = true;
      at = end;
    } else {
      kept += '<';
      at = open + 1;
    }
  }
  return { kept: kept + text.slice(at), pending: '', left, inRow };
}

/** The next `</row` at or after `from`, or the text's length. */
function endOfRow(text: string, from: number): number {
  const found = text.indexOf('</row', from);
  return found === -1 ? text.length : found;
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
