// Pages of a Word document. A .docx records no page layout (where a page ends depends on the
// fonts and the renderer), only the breaks its author made: page breaks (`<w:br w:type="page"/>`),
// "page break before" on a paragraph (`<w:pageBreakBefore/>`), and section breaks (a paragraph
// whose properties end a section, `<w:pPr><w:sectPr>`; a `continuous` one starts no new page).
// mammoth reads none of them as a boundary, so before it runs each break becomes a run of text
// holding a marker that cannot occur in the document (a fresh random token), and the text is cut
// at the markers once it is laid out. A page is then the text between two breaks, which Word may
// lay out over several pages; the result says so (`pageUnit: "section"`). A document without
// breaks stays one page (`pageUnit: "document"`). Breaks that a paragraph style implies
// (a heading style with "page break before") are not seen: only the document's own markup is read.
import { randomBytes } from 'node:crypto';
import type { DocumentMetadata } from '../types.ts';

export const DOCX_SECTION_PAGINATION = 'one page per part between the page and section breaks the document holds (Word may lay out several pages between two breaks; it records no page layout)';
export const DOCX_WHOLE_PAGINATION = 'one page: the whole document (it holds no page or section break, and Word records no page layout)';

/** A token no document holds: letters only, so that no layout step changes it. */
export function newMarker(): string {
  return `reampagebreak${randomBytes(12).toString('hex')}`;
}

const run = (marker: string): string => `<w:r><w:t>${marker}</w:t></w:r>`;
/** A paragraph's properties (not the ones inside a tracked change, which hold properties of their own). */
const PARAGRAPH_PROPERTIES = /<w:pPr>((?:(?!<\/?w:pPr>)[\s\S])*)<\/w:pPr>/g;
const CONTINUOUS = /<w:type\s+w:val=["']continuous["']\s*\/>/;
const NAME_ENDS = new Set([' ', '\t', '\n', '\r', '/', '>']);

// The breaks are found by scanning for tags with indexOf rather than by regular expressions
// that search for an attribute across a whole tag: on a document full of unclosed `<w:br ` such
// a search backtracks to the end of the text from every one of them (minutes for a few KB).

/** Where the tag starting at `start` ends (its `>`, outside quoted attribute values), or -1. */
function tagEnd(xml: string, start: number): number {
  for (let i = start + 1; i < xml.length; i++) {
    const char = xml[i];
    if (char === '>') return i;
    if (char === '"' || char === "'") {
      const close = xml.indexOf(char, i + 1);
      if (close === -1) return -1;
      i = close;
    }
  }
  return -1;
}

/** Each `<name …>` tag of `xml` in order (with `start` and `end` past its `>`); a tag left open ends the scan. */
function* tags(xml: string, name: string): Generator<{ start: number; end: number; tag: string }> {
  for (let from = 0; ;) {
    const start = xml.indexOf(`<${name}`, from);
    if (start === -1) return;
    const end = tagEnd(xml, start);
    if (end === -1) return;
    // `<w:brX …>` is another element: the name must end there.
    if (NAME_ENDS.has(xml.charAt(start + name.length + 1))) yield { start, end: end + 1, tag: xml.slice(start, end + 1) };
    from = end + 1;
  }
}

/** The value of the attribute `name` (any namespace prefix, either quote) in one tag. */
function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s(?:[\\w.-]+:)?${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** `xml` with each page break (`<w:br w:type="page"/>`, or written with an end tag) replaced by `replacement`. */
function replacePageBreaks(xml: string, replacement: string): string {
  let out = '';
  let from = 0;
  for (const { start, end, tag } of tags(xml, 'w:br')) {
    if (attribute(tag, 'type') !== 'page') continue;
    out += xml.slice(from, start) + replacement;
    from = !tag.endsWith('/>') && xml.startsWith('</w:br>', end) ? end + '</w:br>'.length : end;
  }
  return out + xml.slice(from);
}

/** Whether a paragraph's properties ask for a page break before it (`<w:pageBreakBefore/>`, not turned off by its `w:val`). */
function breaksBefore(properties: string): boolean {
  for (const { tag } of tags(properties, 'w:pageBreakBefore')) {
    const value = attribute(tag, 'val');
    if (value === undefined || !['0', 'false', 'off'].includes(value)) return true;
  }
  return false;
}

/** Whether a paragraph's properties end a section that starts a new page (its `w:sectPr` not `continuous`). */
function endsPage(properties: string): boolean {
  const [section] = tags(properties, 'w:sectPr');
  if (section === undefined) return false;
  const { start } = section;
  const end = properties.indexOf('</w:sectPr>', start);
  return end !== -1 && !CONTINUOUS.test(properties.slice(start, end));
}

/**
 * `word/document.xml` with a text run holding `marker` at each break: in place of a page break,
 * at the start of a paragraph with "page break before", at the end of a paragraph that ends a
 * section (the body's last section, outside any paragraph, ends the document and is no break).
 */
export function markBreaks(xml: string, marker: string): string {
  const sectionEnd = `${marker}section`;
  const marked = replacePageBreaks(xml, `<w:t>${marker}</w:t>`).replace(PARAGRAPH_PROPERTIES, (properties: string, inner: string) =>
    `${properties}${breaksBefore(inner) ? run(marker) : ''}${endsPage(inner) ? sectionEnd : ''}`);
  // The section's end goes at its paragraph's end: after the paragraph's runs.
  let out = '';
  let from = 0;
  for (let at = marked.indexOf(sectionEnd); at !== -1; at = marked.indexOf(sectionEnd, from)) {
    const close = marked.indexOf('</w:p>', at);
    if (close === -1) break;
    out += `${marked.slice(from, at)}${marked.slice(at + sectionEnd.length, close)}${run(marker)}</w:p>`;
    from = close + '</w:p>'.length;
  }
  return out + marked.slice(from);
}

/** The laid-out text cut at the markers; an empty part before the first or after the last break (a break at the very start or end) is no page. */
export function splitAtMarkers(text: string, marker: string): string[] {
  const parts = text.split(marker).map((part) => part.trim());
  while (parts.length > 1 && parts[0] === '') parts.shift();
  while (parts.length > 1 && parts.at(-1) === '') parts.pop();
  return parts;
}

/** What a page is in this document, for its metadata. */
export function docxPagination(pageCount: number): Pick<DocumentMetadata, 'pageUnit' | 'pagination'> {
  return pageCount > 1 ? { pageUnit: 'section', pagination: DOCX_SECTION_PAGINATION } : { pageUnit: 'document', pagination: DOCX_WHOLE_PAGINATION };
}
