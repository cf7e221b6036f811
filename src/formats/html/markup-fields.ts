// A few fields of HTML or XML (an HTML page's <title> and <meta>s, a Word file's properties),
// read by htmlparser2's streaming parser: no tree is built, so a hostile file nested 200,000
// levels deep costs one pass and no stack, where walking a tree recursively would overflow.
import { Parser } from 'htmlparser2';

export interface MarkupFields {
  /** The text of the first element of each wanted name, blanks collapsed. */
  texts: Map<string, string>;
  /** HTML `<meta name="…" content="…">`, by lower-cased name (the first of each). */
  metas: Map<string, string>;
}

/** Reads `markup` once for the elements named in `wanted` (names as written, prefix included: `dc:title`). */
export function markupFields(markup: string, wanted: readonly string[], xmlMode: boolean): MarkupFields {
  const names = new Set(wanted);
  const out: MarkupFields = { texts: new Map(), metas: new Map() };
  let capturing: string | undefined;
  let text = '';
  // Inside an HTML <template> (never rendered: a browser's document.title does not look there).
  let templates = 0;
  const parser = new Parser({
    onopentag(name, attribs) {
      if (!xmlMode && name === 'template') templates++;
      if (templates > 0) return;
      if (capturing === undefined && names.has(name) && !out.texts.has(name)) {
        capturing = name;
        text = '';
      }
      const meta = attribs.name?.toLowerCase();
      if (!xmlMode && name === 'meta' && meta !== undefined && attribs.content !== undefined && !out.metas.has(meta)) out.metas.set(meta, attribs.content);
    },
    ontext(data) {
      if (capturing !== undefined) text += data;
    },
    onclosetag(name) {
      if (!xmlMode && name === 'template') templates = Math.max(0, templates - 1);
      if (name !== capturing) return;
      out.texts.set(name, text);
      capturing = undefined;
    },
  }, { xmlMode, decodeEntities: true, lowerCaseTags: !xmlMode, lowerCaseAttributeNames: !xmlMode });
  parser.end(markup);
  for (const [key, value] of out.texts) out.texts.set(key, value.replace(/\s+/g, ' ').trim());
  for (const [key, value] of out.metas) out.metas.set(key, value.replace(/\s+/g, ' ').trim());
  return out;
}
