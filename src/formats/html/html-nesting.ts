// How deep a page's elements nest, counted before htmlparser2 builds its tree (it slows down with
// the square of the depth). The tags are found by one forward pass that mirrors htmlparser2's
// tokenizer where it matters for the count: quoted attribute values may hold `<` and `>`,
// comments and the text of <script>, <style>, <title>, <textarea> and <xmp> hold no tags, and
// `<div/>` opens a <div> in HTML (only inside SVG and MathML does `/>` close it). The pass
// never looks back: a tag the file ends inside ends the count (htmlparser2 drops it too), so
// 200,000 unclosed `<a ` cost one pass, not one pass each.
import { ReamError } from '../../errors.ts';

/**
 * Most elements open at once. htmlparser2 slows down with the square of the nesting (a page of
 * 200,000 nested `<div>`s, 1.2 MB, takes minutes), and real pages nest a few dozen deep.
 */
export const MAX_NESTING = 1000;

/** Elements that never nest (void) or may be left open (their end tag is optional): not counted. */
const UNCOUNTED = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr',
  'p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'thead', 'tbody', 'tfoot', 'colgroup', 'rt', 'rp', 'html', 'head', 'body',
]);

/** Elements whose content is text up to their end tag (htmlparser2's "special" tags). */
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp']);

/** Elements inside which `/>` closes what it opens (foreign content)… */
const FOREIGN = new Set(['svg', 'math']);
/** …and those inside foreign content that bring HTML's rules back. */
const INTEGRATION = new Set(['mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml', 'foreignobject', 'desc', 'title']);

interface Tag {
  /** Lower-cased, as written up to the first blank, `/` or `>`. */
  name: string;
  closing: boolean;
  /** Written `<name …/>`. */
  selfClosing: boolean;
}

const isLetter = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
const isBlank = (char: string | undefined): boolean => char === ' ' || char === '\n' || char === '\t' || char === '\r' || char === '\f';

/** What XML reads as no element (its text may look like tags): from its start to its end. */
const XML_SKIPPED = [['<![CDATA[', ']]>'], ['<?', '?>'], ['<!', '>']] as const;

/**
 * The start and end tags of `html` in order, in one pass that never goes back (see the file's
 * comment). `xml`: by XML's rules, where no element holds raw text (`<title>`), a name may begin
 * with `_` or a letter past ASCII, and CDATA sections and processing instructions are text.
 */
function* tags(html: string, xml = false): Generator<Tag> {
  let at = 0;
  while ((at = html.indexOf('<', at)) !== -1) {
    if (html.startsWith('<!--', at)) {
      const end = html.indexOf('-->', at + 4);
      if (end === -1) return;
      at = end + 3;
      continue;
    }
    const skipped = xml ? XML_SKIPPED.find(([start]) => html.startsWith(start, at)) : undefined;
    if (skipped) {
      const end = html.indexOf(skipped[1], at + skipped[0].length);
      if (end === -1) return;
      at = end + skipped[1].length;
      continue;
    }
    const closing = html[at + 1] === '/';
    let i = at + (closing ? 2 : 1);
    // `<` not followed by a letter is text (`a < b`) or a declaration (`<!DOCTYPE`, `<?xml`).
    if (xml ? isBlank(html[i]) || html[i] === '>' || i >= html.length : !isLetter(html.charCodeAt(i))) {
      at = i;
      continue;
    }
    const nameStart = i;
    while (i < html.length && !isBlank(html[i]) && html[i] !== '/' && html[i] !== '>') i++;
    const name = html.slice(nameStart, i).toLowerCase();
    let selfClosing = false;
    for (; html[i] !== '>'; i++) {
      if (i >= html.length) return;
      if (html[i] === '=') {
        while (isBlank(html[i + 1])) i++;
        const quote = html[i + 1];
        if (quote === '"' || quote === "'") {
          i = html.indexOf(quote, i + 2);
          if (i === -1) return;
        }
      }
      selfClosing = html[i] === '/';
    }
    at = i + 1;
    yield { name, closing, selfClosing };
    if (!xml && !closing && !selfClosing && RAW_TEXT.has(name)) {
      const end = new RegExp(`</${name}`, 'ig');
      end.lastIndex = at;
      if (!end.exec(html)) return;
      at = end.lastIndex - name.length - 2;
    }
  }
}

/** Throws `resource_limit` when more than {@link MAX_NESTING} elements are open at once: one linear scan of the tags. */
export function checkNesting(html: string): void {
  let depth = 0;
  // As htmlparser2 keeps it: whether `/>` closes an element here (true inside SVG or MathML).
  const foreign: boolean[] = [];
  for (const { name, closing, selfClosing } of tags(html)) {
    if (closing && (FOREIGN.has(name) || INTEGRATION.has(name))) foreign.pop();
    else if (!closing && INTEGRATION.has(name)) foreign.push(false);
    // A self-closed <svg/> is not taken to start foreign content: were it to, the `<div/>`s after it would go uncounted.
    else if (!closing && !selfClosing && FOREIGN.has(name)) foreign.push(true);
    if (UNCOUNTED.has(name) || (!closing && selfClosing && foreign.at(-1) === true)) continue;
    depth = closing ? Math.max(0, depth - 1) : depth + 1;
    if (depth > MAX_NESTING) {
      throw ReamError.nonRetryable('resource_limit', `the markup nests more than ${MAX_NESTING} elements deep; ream refuses such files (real pages nest a few dozen)`, {
        details: { maxNesting: MAX_NESTING },
      });
    }
  }
}

/**
 * Throws `resource_limit` when more than {@link MAX_NESTING} XML elements (a Word document's
 * part) are open at once. In XML `<x/>` closes what it opens. mammoth walks a document's
 * elements recursively: 5,000 nested tables in 1.3 KB of a .docx overflowed its stack.
 */
export function checkXmlNesting(xml: string): void {
  let depth = 0;
  for (const { closing, selfClosing } of tags(xml, true)) {
    if (selfClosing) continue;
    depth = closing ? Math.max(0, depth - 1) : depth + 1;
    if (depth > MAX_NESTING) {
      throw ReamError.nonRetryable('resource_limit', `the document's XML nests more than ${MAX_NESTING} elements deep; ream refuses such files (real documents nest a few dozen)`, {
        details: { maxNesting: MAX_NESTING },
      });
    }
  }
}
