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
const PAGE_BREAK = /<w:br\b[^>]*\bw:type="page"[^>]*\/>/g;
/** A paragraph's properties (not the ones inside a tracked change, which hold properties of their own). */
const PARAGRAPH_PROPERTIES = /<w:pPr>((?:(?!<\/?w:pPr>)[\s\S])*)<\/w:pPr>/g;
const BREAK_BEFORE = /<w:pageBreakBefore(?:\s+w:val="(?!0"|false"|off")[^"]*")?\s*\/>/;
const SECTION = /<w:sectPr\b[\s\S]*?<\/w:sectPr>/;
const CONTINUOUS = /<w:type\s+w:val="continuous"\s*\/>/;

/**
 * `word/document.xml` with a text run holding `marker` at each break: in place of a page break,
 * at the start of a paragraph with "page break before", at the end of a paragraph that ends a
 * section (the body's last section, outside any paragraph, ends the document and is no break).
 */
export function markBreaks(xml: string, marker: string): string {
  const sectionEnd = `${marker}section`;
  const marked = xml
    .replace(PAGE_BREAK, `<w:t>${marker}</w:t>`)
    .replace(PARAGRAPH_PROPERTIES, (properties: string, inner: string) => {
      const section = SECTION.exec(inner)?.[0];
      const endsPage = section !== undefined && !CONTINUOUS.test(section);
      return `${properties}${BREAK_BEFORE.test(inner) ? run(marker) : ''}${endsPage ? sectionEnd : ''}`;
    });
  // The section's end goes at its paragraph's end: after the paragraph's runs.
  return marked.replace(new RegExp(`${sectionEnd}([\\s\\S]*?)</w:p>`, 'g'), (_, runs: string) => `${runs}${run(marker)}</w:p>`);
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
