/** Longest file name kept, in UTF-8 bytes (what most file systems allow for one name). */
export const MAX_FILE_NAME_BYTES = 255;

/**
 * C0 and C1 controls (NUL, newlines, escape, …), and the invisible formatting characters that make
 * a name read other than it is: bidi embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069, e.g. U+202E makes `invoice‮fdp.exe` look like `invoiceexe.pdf`), bidi marks
 * (U+200E, U+200F, U+061C), zero-width characters and the BOM.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/gu;

/** Longest extension kept whole when a name is cut, in UTF-8 bytes, dot included (`.docx`, `.tar.gz` is `.gz`). */
const MAX_EXTENSION_BYTES = 16;

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
function capUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * `name` cut to {@link MAX_FILE_NAME_BYTES}, its extension kept: the extension takes part in
 * recognising a file and names what opens its download, so `….pdf` must stay a `.pdf`. An extension longer
 * than {@link MAX_EXTENSION_BYTES} is no extension, and the name is cut at its end like any text.
 */
function capName(name: string): string {
  if (Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  if (extension === '' || Buffer.byteLength(extension) > MAX_EXTENSION_BYTES) return capUtf8(name, MAX_FILE_NAME_BYTES);
  const stem = capUtf8(name.slice(0, dot), MAX_FILE_NAME_BYTES - Buffer.byteLength(extension)).trimEnd();
  // A stem of only spaces would leave a hidden dot file; the cut name is the extension-less one then.
  return stem === '' ? capUtf8(name, MAX_FILE_NAME_BYTES) : stem + extension;
}

/**
 * The display name of an uploaded file, the same for every way in (multipart `filename`, tus
 * `filename` metadata): control and bidi characters removed, only the last path segment kept (a
 * name is never a path: `../../etc/passwd` is `passwd`), trimmed, capped at
 * {@link MAX_FILE_NAME_BYTES} bytes of UTF-8 with its extension kept. `fallback` when nothing usable is left.
 */
export function sanitizeFileName(raw: string | null | undefined, fallback: string): string {
  const cleaned = (raw ?? '').normalize('NFC').replace(UNSAFE, '');
  const last = cleaned.split(/[\\/]/).pop()?.trim() ?? '';
  if (last === '' || last === '.' || last === '..') return fallback;
  return capName(last).trim() || fallback;
}
