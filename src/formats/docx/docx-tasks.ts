// The Word tasks a pool thread runs (see src/runtime/pool-worker.ts): `docx.inspect` reads the
// document properties (docProps/core.xml, docProps/app.xml) and counts the pages, `docx.extract`
// the pages' text: mammoth turns the document into HTML (headings, lists, tables kept as
// structure), which is then laid out as text like any page (html-text.ts) and cut at the
// document's page and section breaks (docx-pages.ts). The archive's directory is checked first:
// it must hold word/document.xml, and its declared sizes must not make a bomb; then only the
// parts mammoth reads are inflated (docx-parts.ts). Both tasks lay
// the whole document out (a Word file is small next to the time mammoth takes): the count is
// the one extract will find.
import JSZip from 'jszip';
import mammoth from 'mammoth';
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import { checkXmlNesting } from '../html/html-nesting.ts';
import { htmlText } from '../html/html-text.ts';
import { markupFields } from '../html/markup-fields.ts';
import type { DocumentMetadata, TaskHandler } from '../types.ts';
import type { WholeExtractInput, WholeInspectInput, WholeInspectResult } from '../whole-document-format.ts';
import { docxPagination, markBreaks, newMarker, splitAtMarkers } from './docx-pages.ts';
import { readWordPart, wordParts } from './docx-parts.ts';

/** What `docx.inspect` answers: the metadata (with `pageUnit`) and the page count. */
export type DocxInspectResult = WholeInspectResult & { pageCount: number };
/** What `docx.extract` answers: every page's text, in order. */
export type DocxExtractResult = { pages: string[] };
import { checkZipSizes, containerType, zipEntries } from '../zip/zip-container.ts';
import type { CentralDirectoryFile } from 'unzipper';

/** The archive's entries, once it is known to be a Word document within the size limits. */
async function wordEntries(path: string): Promise<CentralDirectoryFile[]> {
  const files = await zipEntries(path, 'invalid_docx');
  checkZipSizes(files);
  const found = containerType(files);
  if (!('mediaType' in found) || !files.some((f) => f.path === 'word/document.xml')) {
    const what = 'what' in found ? found.what : 'an XLSX workbook';
    throw ReamError.nonRetryable('invalid_docx', `the file is not a Word document (it has no word/document.xml): it is ${what}`, { details: { detected: what } });
  }
  return files;
}

/** An ISO 8601 instant as W3CDTF writes it (`2024-03-01T10:00:00Z`), or nothing for anything else. */
function isoDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

async function inspect(input: JsonValue): Promise<JsonValue> {
  const { path } = fromJson<WholeInspectInput>(input);
  const files = await wordEntries(path);
  const part = async (name: string): Promise<string> => {
    const file = files.find((f) => f.path === name);
    return file ? (await readWordPart(file)).toString('utf8') : '';
  };
  const core = markupFields(await part('docProps/core.xml'), ['dc:title', 'dc:creator', 'dc:subject', 'cp:keywords', 'dcterms:created', 'dcterms:modified'], true).texts;
  const app = markupFields(await part('docProps/app.xml'), ['Application', 'AppVersion'], true).texts;
  const out: DocumentMetadata = {
    title: core.get('dc:title'),
    author: core.get('dc:creator'),
    subject: core.get('dc:subject'),
    keywords: core.get('cp:keywords'),
    createdAt: isoDate(core.get('dcterms:created')),
    modifiedAt: isoDate(core.get('dcterms:modified')),
    creator: app.get('Application'),
    formatVersion: app.get('AppVersion'),
  };
  const pageCount = (await wordPages(files, false)).length;
  const metadata: DocumentMetadata = { ...Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined && v !== '')), ...docxPagination(pageCount) };
  const result: DocxInspectResult = { metadata, pageCount };
  return asJson(result);
}

/**
 * mammoth's image converter for a text that drops images: each becomes an `<img>` without its
 * bytes, so no image is inflated (mammoth's default inlines every one as a data: URI).
 */
const unreadImage = mammoth.images.imgElement(() => Promise.resolve({ src: '' }));

/** The document's pages as text (see docx-pages.ts), from the parts mammoth reads (docx-parts.ts). */
async function wordPages(files: readonly CentralDirectoryFile[], links: boolean): Promise<string[]> {
  const marker = newMarker();
  const { main, parts } = await wordParts(files);
  let html: string;
  try {
    // Those parts alone, stored (not compressed) in an archive of their own: all mammoth reads.
    const zip = new JSZip();
    for (const [name, bytes] of parts) {
      // Before mammoth, which walks the elements recursively: a deep nest overflowed its stack.
      if (name.endsWith('.xml')) checkXmlNesting(bytes.toString('utf8'));
      zip.file(name, name === main ? markBreaks(bytes.toString('utf8'), marker) : bytes);
    }
    const buffer = await zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' });
    html = (await mammoth.convertToHtml({ buffer }, { convertImage: unreadImage })).value;
  } catch (error) {
    if (error instanceof ReamError) throw error;
    throw ReamError.nonRetryable('invalid_docx', `the Word document cannot be read: ${mammothMessage(error)}`, { cause: error });
  }
  return splitAtMarkers(htmlText(html, links), marker);
}

/** mammoth's parser (xmldom) reports `error: [xmldom error]\t<what>\n@#[line:…,col:…]`: said in words, where it says where. */
const XMLDOM = /^\w+: \[xmldom \w+\]\s*(.*?)\s*(?:@#\[line:(\w+),col:(\w+)\])?\s*$/s;

/** What went wrong in mammoth, without its XML parser's raw format. */
function mammothMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const xml = XMLDOM.exec(message);
  if (!xml) return message;
  const [, what = '', line, column] = xml;
  const where = line && line !== 'undefined' ? ` (line ${line}${column && column !== 'undefined' ? `, column ${column}` : ''})` : '';
  return `its XML is not well-formed${where}: ${what.replace(/\s+/g, ' ')}`;
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const { path, links } = fromJson<WholeExtractInput>(input);
  const result: DocxExtractResult = { pages: await wordPages(await wordEntries(path), links) };
  return asJson(result);
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'docx.inspect': inspect,
  'docx.extract': extract,
};
