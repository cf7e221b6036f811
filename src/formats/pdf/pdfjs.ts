// pdf.js inside a pool thread: how documents are opened, kept and closed, and how pdf.js's
// exceptions become ream's error codes. Never imported on the main thread (pdf-format.ts sends
// tasks instead), so the event loop never parses a PDF.
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getDocument, type PDFDocumentLoadingTask, type PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { ReamError } from '../../errors.ts';
import { createDocumentCache } from './document-cache.ts';
import { pdfjsErrorCode } from './page-read.ts';

// pdf.js loads CMaps (CJK encodings) and the 14 standard fonts' metrics from files at run time.
// Without them it still "works" and silently drops text: a third of a Chinese page goes missing.
// Node's fs wants filesystem paths with a trailing slash here, not URLs.
const PDFJS_DIR = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const ASSETS = {
  cMapUrl: join(PDFJS_DIR, 'cmaps') + '/',
  cMapPacked: true,
  standardFontDataUrl: join(PDFJS_DIR, 'standard_fonts') + '/',
  wasmUrl: join(PDFJS_DIR, 'wasm') + '/',
};

interface OpenDocument {
  loading: PDFDocumentLoadingTask;
  doc: PDFDocumentProxy;
}

// destroy() also ends pdf.js's in-thread "fake worker" and frees its caches.
const cache = createDocumentCache<OpenDocument>((open) => open.loading.destroy());

/**
 * Runs `use` with the document at `path` (opened with `password` when given), reusing this
 * thread's open copy when the file and password are the same (see document-cache.ts).
 */
export async function withDocument<T>(path: string, use: (doc: PDFDocumentProxy) => Promise<T>, password?: string): Promise<T> {
  return cache.with(path, password ?? '', () => openDocument(path, password), (open) => use(open.doc));
}

/**
 * Closes this thread's open document. After pdf.js fails to find a page in a damaged page tree,
 * its page cache can point the next page number at the wrong page (asked for 2 then 3 of a
 * tree whose kids 2 and 3 are broken, it returns page 4 as page 3): a fresh copy does not.
 */
export function forgetDocument(): Promise<void> {
  return cache.close();
}

/**
 * The file's bytes in a plain Uint8Array of exactly its size: pdf.js copies a Node Buffer (or a
 * view on a larger buffer) before use, and takes a plain array as is.
 */
async function readBytes(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === size ? bytes : bytes.slice(0, offset);
  } finally {
    await handle.close();
  }
}

async function openDocument(path: string, password: string | undefined): Promise<OpenDocument> {
  const data = await readBytes(path);
  const loading = getDocument({
    data,
    ...(password === undefined ? {} : { password }),
    ...ASSETS,
    // No system fonts, no DOM: we only want text, and hostile input should reach as little
    // machinery as possible. (pdf.js 6 has no `isEvalSupported` any more: it never evals.)
    useSystemFonts: false,
    disableFontFace: true,
    verbosity: 0,
  });
  try {
    return { loading, doc: await loading.promise };
  } catch (error) {
    await loading.destroy();
    // The password a job gives for its protected files must not lock out its other files: one
    // whose user password is empty (owner-only restrictions) opens without it, as without the option.
    if (password !== undefined && error instanceof Error && error.name === 'PasswordException') {
      return openDocument(path, undefined).catch(() => {
        throw openError(error, true);
      });
    }
    throw openError(error, password !== undefined);
  }
}

function openError(error: unknown, withPassword: boolean): ReamError {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') {
    // pdf.js only asks for a password when the *user* password is not empty: an owner-only
    // file (no password to open, restrictions on copying) opens like pdftotext opens it.
    const message = withPassword ? 'the PDF is encrypted and the password given does not open it' : 'the PDF is encrypted with a password';
    return ReamError.nonRetryable('encrypted_pdf', message, { cause: error });
  }
  const code = pdfjsErrorCode(error);
  return new ReamError(code, code === 'invalid_pdf' ? `not a readable PDF: ${message}` : message, { cause: error });
}
