// Tells what a file is from its first bytes. The content decides, never the name: a PNG called
// `scan.pdf` is a PNG. The name only picks between readers the content allows (plain text vs
// Markdown) and makes error messages say what the user expected.
import { extname } from 'node:path';
import { ReamError } from '../errors.ts';

export const PDF_MEDIA_TYPE = 'application/pdf';
export const TEXT_MEDIA_TYPE = 'text/plain';
export const MARKDOWN_MEDIA_TYPE = 'text/markdown';
export const CSV_MEDIA_TYPE = 'text/csv';
export const XLSX_MEDIA_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const DOCX_MEDIA_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const PNG_MEDIA_TYPE = 'image/png';
export const JPEG_MEDIA_TYPE = 'image/jpeg';
export const TIFF_MEDIA_TYPE = 'image/tiff';
export const WEBP_MEDIA_TYPE = 'image/webp';
export const HTML_MEDIA_TYPE = 'text/html';
export const EMAIL_MEDIA_TYPE = 'message/rfc822';

/** `%PDF-` may follow some junk; readers accept it within the first 1024 bytes, and so do we. */
const PDF_HEADER_WINDOW = 1024;

interface Magic {
  what: string;
  test: (b: Uint8Array) => boolean;
}

const starts = (b: Uint8Array, bytes: readonly number[], at = 0): boolean => bytes.every((x, i) => b[at + i] === x);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** An OLE2 compound file (MS-CFB): a legacy Office file, or an encrypted current one (ole/ole-container.ts tells which). */
export function isOle2(head: Uint8Array): boolean {
  return starts(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
}

/** Binary formats people upload by mistake, so that the error names what the file is. */
const MAGIC: readonly Magic[] = [
  { what: 'a PNG image', test: (b) => starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { what: 'a JPEG image', test: (b) => starts(b, [0xff, 0xd8, 0xff]) },
  { what: 'a GIF image', test: (b) => starts(b, ascii('GIF87a')) || starts(b, ascii('GIF89a')) },
  { what: 'a TIFF image', test: (b) => starts(b, [0x49, 0x49, 0x2a, 0x00]) || starts(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { what: 'a WebP image', test: (b) => starts(b, ascii('RIFF')) && starts(b, ascii('WEBP'), 8) },
  { what: 'a BMP image', test: (b) => starts(b, ascii('BM')) && b.length >= 14 && starts(b, [0, 0, 0, 0], 6) },
  { what: 'a HEIF/AVIF image or MP4 video', test: (b) => starts(b, ascii('ftyp'), 4) },
  { what: 'a JPEG 2000 image', test: (b) => starts(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) },
  {
    // XLSX, DOCX, PPTX, ODT, EPUB and JARs are ZIP archives too.
    what: 'a ZIP archive (e.g. XLSX, DOCX or ODF)',
    test: (b) => starts(b, [0x50, 0x4b, 0x03, 0x04]) || starts(b, [0x50, 0x4b, 0x05, 0x06]),
  },
  { what: 'an OLE2 file (a legacy .doc or .xls, or a password-protected Office document)', test: isOle2 },
  { what: 'a gzip archive', test: (b) => starts(b, [0x1f, 0x8b]) },
  { what: 'a 7-Zip archive', test: (b) => starts(b, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { what: 'a RAR archive', test: (b) => starts(b, ascii('Rar!\x1a\x07')) },
  { what: 'a SQLite database', test: (b) => starts(b, ascii('SQLite format 3\0')) },
  { what: 'an executable (ELF)', test: (b) => starts(b, [0x7f, 0x45, 0x4c, 0x46]) },
  { what: 'a PostScript file', test: (b) => starts(b, ascii('%!PS')) },
  { what: 'an RTF document', test: (b) => starts(b, ascii('{\\rtf')) },
];

/** The images ream reads (by OCR), by their signature. */
const IMAGES: readonly { mediaType: string; test: (b: Uint8Array) => boolean }[] = [
  { mediaType: PNG_MEDIA_TYPE, test: (b) => starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mediaType: JPEG_MEDIA_TYPE, test: (b) => starts(b, [0xff, 0xd8, 0xff]) },
  { mediaType: TIFF_MEDIA_TYPE, test: (b) => starts(b, [0x49, 0x49, 0x2a, 0x00]) || starts(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { mediaType: WEBP_MEDIA_TYPE, test: (b) => starts(b, ascii('RIFF')) && starts(b, ascii('WEBP'), 8) },
];

const IMAGE_EXTENSIONS: Readonly<Record<string, string>> = {
  '.png': PNG_MEDIA_TYPE,
  '.jpg': JPEG_MEDIA_TYPE,
  '.jpeg': JPEG_MEDIA_TYPE,
  '.tif': TIFF_MEDIA_TYPE,
  '.tiff': TIFF_MEDIA_TYPE,
  '.webp': WEBP_MEDIA_TYPE,
};

const HTML_EXTENSIONS: Readonly<Record<string, string>> = { '.html': HTML_MEDIA_TYPE, '.htm': HTML_MEDIA_TYPE, '.xhtml': HTML_MEDIA_TYPE };

const TEXT_EXTENSIONS: Readonly<Record<string, string>> = {
  '.txt': TEXT_MEDIA_TYPE,
  '.text': TEXT_MEDIA_TYPE,
  '.md': MARKDOWN_MEDIA_TYPE,
  '.markdown': MARKDOWN_MEDIA_TYPE,
};

/** The one map of file extensions to the media types ream reads (readers and stored documents use it). */
export const MEDIA_TYPE_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.pdf': PDF_MEDIA_TYPE,
  ...TEXT_EXTENSIONS,
  '.csv': CSV_MEDIA_TYPE,
  '.xlsx': XLSX_MEDIA_TYPE,
  '.docx': DOCX_MEDIA_TYPE,
  ...IMAGE_EXTENSIONS,
  ...HTML_EXTENSIONS,
  '.eml': EMAIL_MEDIA_TYPE,
};

const isZip = (b: Uint8Array): boolean => starts(b, [0x50, 0x4b, 0x03, 0x04]);

/**
 * An XLSX is a ZIP whose entries include `xl/workbook.xml`. The cheap check: an entry under `xl/`
 * among the local file headers in `head` (writers put the workbook's parts first, though not
 * always `xl/workbook.xml` itself: exceljs writes it last), or the name `.xlsx` on a ZIP. Either
 * way the reader then opens it for real and says `invalid_sheet` if it is not one.
 */
function looksLikeXlsx(head: Uint8Array, ext: string): boolean {
  if (!isZip(head)) return false;
  return ext === '.xlsx' || zipEntryNames(head).some((name) => name.startsWith('xl/'));
}

/** A DOCX is a ZIP with `word/document.xml`: known, as an XLSX is, by a `word/` entry in `head` or by its name (the reader then checks). */
function looksLikeDocx(head: Uint8Array, ext: string): boolean {
  if (!isZip(head)) return false;
  return ext === '.docx' || zipEntryNames(head).some((name) => name.startsWith('word/'));
}

/** Markup a browser would take for a page: a doctype, or an `<html>`, `<head>` or `<body>` tag before any text. */
function looksLikeHtml(head: Uint8Array): boolean {
  const start = Buffer.from(head.subarray(0, 1024)).toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart().toLowerCase();
  return /^(?:<!--[\s\S]*?-->\s*)*<(?:!doctype html|html[\s>]|head[\s>]|body[\s>])/.test(start);
}

/** Header fields nearly every message has; two of them in the header block make a message. */
const MAIL_FIELDS = new Set(['from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'received', 'return-path', 'delivered-to']);

/**
 * An RFC 5322 message: its first lines are header fields (`Name: value`, folded lines start
 * with a blank) up to an empty line, with at least two of {@link MAIL_FIELDS}. A file `named`
 * as a message (`.eml`) needs less, as mail saved by mail programs has it: one of them or a
 * `Content-Type` (a MIME entity saved alone), after a mailbox's `From ` envelope line if any,
 * and its body may follow the last field without the empty line.
 */
export function looksLikeEmail(head: Uint8Array, named = false): boolean {
  if (head.includes(0)) return false;
  const lines = Buffer.from(head).toString('latin1').split(/\r?\n/);
  const first = named && hasMboxEnvelope(head) ? 1 : 0;
  const needed = named ? 1 : 2;
  let known = 0;
  for (let i = first; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') return known >= needed;
    if (i === lines.length - 1) break; // cut by the end of head: not judged
    if (/^[ \t]/.test(line) && i > first) continue;
    const field = /^([!-9;-~]+):/.exec(line)?.[1]?.toLowerCase();
    if (field === undefined) return named && known >= needed;
    if (MAIL_FIELDS.has(field) || (named && field === 'content-type')) known++;
  }
  return known >= needed;
}

/** Whether the message starts with a Unix mailbox's envelope line (`From sender date`), which is no header field. */
export function hasMboxEnvelope(head: Uint8Array): boolean {
  return starts(head, [0x46, 0x72, 0x6f, 0x6d, 0x20]);
}

/** Names of the ZIP local file headers (`PK\3\4`, name length at +26, name at +30) found whole in `head`. */
function zipEntryNames(head: Uint8Array): string[] {
  const names: string[] = [];
  for (let at = 0; at + 30 <= head.length; at++) {
    if (!starts(head, [0x50, 0x4b, 0x03, 0x04], at)) continue;
    const length = (head[at + 26] ?? 0) | ((head[at + 27] ?? 0) << 8);
    if (at + 30 + length > head.length) break;
    names.push(String.fromCharCode(...head.subarray(at + 30, at + 30 + length)));
  }
  return names;
}

/** The media type a file's name suggests (its extension), else `application/octet-stream`: for bytes not sniffed. */
export function mediaTypeByName(name: string): string {
  return MEDIA_TYPE_BY_EXTENSION[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** The extensions of one media type, as its reader lists them. */
export function extensionsOf(mediaType: string): string[] {
  return Object.keys(MEDIA_TYPE_BY_EXTENSION).filter((ext) => MEDIA_TYPE_BY_EXTENSION[ext] === mediaType);
}

/**
 * Decides the media type of a file from its first bytes (`head`, ideally 4 KiB) and the name the
 * user gave it, or throws the `ReamError` that says why it cannot be read: `unsupported_type`
 * naming what it is, `invalid_pdf` for a `.pdf` that is not one, `invalid_sheet` for a `.xlsx`
 * that is no ZIP or a `.csv` that is no UTF-8 text, `invalid_docx` for a `.docx` that is no ZIP,
 * `invalid_image` for a `.png`/`.jpg`/`.tif`/`.webp` that is no such image. CSV is known by its
 * name only: its content is plain text, and text without the name stays text. HTML and e-mail
 * are known by their name, or without one by their start (a doctype or `<html>`; header fields).
 * Which ZIP container a DOCX or XLSX really is, is decided from its directory by
 * `zip/zip-container.ts` once the whole file is there.
 */
export function sniff(head: Uint8Array, name: string): string {
  const ext = extname(name).toLowerCase();
  const pdfAt = pdfHeaderOffset(head);
  // A header after some leading junk still makes a PDF, unless the file is text that merely
  // mentions `%PDF-` (a Markdown note about PDFs): then its text extension is believed.
  if (pdfAt === 0 || (pdfAt > 0 && !(TEXT_EXTENSIONS[ext] && looksLikeUtf8Text(head)))) return PDF_MEDIA_TYPE;
  if (looksLikeDocx(head, ext)) return DOCX_MEDIA_TYPE;
  if (looksLikeXlsx(head, ext)) return XLSX_MEDIA_TYPE;
  const image = IMAGES.find((m) => m.test(head));
  if (image) return image.mediaType;
  const magic = MAGIC.find((m) => m.test(head));
  if (magic) {
    throw ReamError.nonRetryable('unsupported_type', `${label(name)} is ${magic.what}, which ream cannot read`, {
      details: { detected: magic.what, ...(ext ? { extension: ext } : {}) },
    });
  }
  if (ext === '.pdf') throw ReamError.nonRetryable('invalid_pdf', `${label(name)} is named .pdf but does not start with %PDF-`);
  if (ext === '.xlsx') throw ReamError.nonRetryable('invalid_sheet', `${label(name)} is named .xlsx but is not a ZIP archive, as every XLSX workbook is`);
  if (ext === '.docx') throw ReamError.nonRetryable('invalid_docx', `${label(name)} is named .docx but is not a ZIP archive, as every Word document is`);
  if (IMAGE_EXTENSIONS[ext]) {
    throw ReamError.nonRetryable('invalid_image', `${label(name)} is named ${ext} but is not a PNG, JPEG, TIFF or WebP image`, { details: { extension: ext } });
  }
  if (HTML_EXTENSIONS[ext] || ext === '.eml') {
    if (!head.includes(0)) return ext === '.eml' ? EMAIL_MEDIA_TYPE : HTML_MEDIA_TYPE;
    // A page in UTF-16 says so with its byte order mark; its NULs are half its ASCII characters.
    if (ext !== '.eml' && hasUtf16Bom(head)) return HTML_MEDIA_TYPE;
    const code = ext === '.eml' ? 'invalid_email' : 'invalid_text';
    throw ReamError.nonRetryable(code, `${label(name)} is named ${ext} but holds binary bytes (NUL), not text`);
  }
  if (ext === '.csv') {
    if (looksLikeUtf8Text(head)) return CSV_MEDIA_TYPE;
    // Excel's "Unicode Text" and many exports are UTF-16: said as such, not as binary bytes.
    if (hasUtf16Bom(head)) {
      throw ReamError.nonRetryable('invalid_sheet', `${label(name)} is UTF-16 text (it starts with a UTF-16 byte order mark); ream reads CSV as UTF-8: save it as UTF-8 (Excel: "CSV UTF-8") and submit it again`);
    }
    if (head.includes(0)) throw ReamError.nonRetryable('invalid_sheet', `${label(name)} is named .csv but holds binary bytes (NUL), not text`);
    throw ReamError.nonRetryable('invalid_sheet', `${label(name)} is named .csv but is not UTF-8 text`);
  }
  const textType = TEXT_EXTENSIONS[ext];
  if (textType) return textType;
  if (ext === '' && looksLikeHtml(head)) return HTML_MEDIA_TYPE;
  if (ext === '' && looksLikeEmail(head)) return EMAIL_MEDIA_TYPE;
  if (ext === '' && looksLikeUtf8Text(head)) return TEXT_MEDIA_TYPE;
  const what = ext ? `${ext} files` : 'files without an extension that are not UTF-8 text';
  throw ReamError.nonRetryable('unsupported_type', `${label(name)}: ream cannot read ${what} (yet)`, {
    details: ext ? { extension: ext } : {},
  });
}

/** Whether `head` starts with a UTF-16 byte order mark (little or big endian). */
export function hasUtf16Bom(head: Uint8Array): boolean {
  return starts(head, [0xff, 0xfe]) || starts(head, [0xfe, 0xff]);
}

export function hasPdfHeader(head: Uint8Array): boolean {
  return pdfHeaderOffset(head) !== -1;
}

/** Where `%PDF-` starts within the first 1024 bytes, or -1. */
function pdfHeaderOffset(head: Uint8Array): number {
  const window = head.subarray(0, PDF_HEADER_WINDOW);
  const sig = ascii('%PDF-');
  for (let i = window.indexOf(0x25); i !== -1 && i <= window.length - sig.length; i = window.indexOf(0x25, i + 1)) {
    if (starts(window, sig, i)) return i;
  }
  return -1;
}

/**
 * True when `head` is valid UTF-8 without NUL bytes. A sequence cut by the end of `head` is
 * fine: `head` is a prefix of the file.
 */
export function looksLikeUtf8Text(head: Uint8Array): boolean {
  return !head.includes(0) && tryDecode(head.subarray(0, completeUtf8Length(head)));
}

function tryDecode(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Length of `bytes` without a trailing, incomplete multi-byte sequence (at most 3 bytes). */
function completeUtf8Length(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** How messages name a file: its name quoted, or `the file`. */
export function label(name: string): string {
  return name ? `"${name}"` : 'the file';
}
