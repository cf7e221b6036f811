/** Longest file name a report gets, extension included. */
const MAX_NAME_CHARS = 120;
/**
 * Longest base name in UTF-8 bytes: file systems allow 255 bytes (not characters) per name, and
 * the base gets a `-2` suffix, an extension and, while it is written, a `.partial-…` suffix.
 */
const MAX_BASE_BYTES = 180;

/** The longest start of `text` within `maxChars` characters and `maxBytes` UTF-8 bytes, cut between code points. */
function cut(text: string, maxChars: number, maxBytes: number): string {
  let bytes = 0;
  let out = '';
  let chars = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (++chars > maxChars || bytes > maxBytes) break;
    out += char;
  }
  return out;
}

/**
 * A file name from a rendered name template: no path separators, no `..`, no control or
 * reserved characters, no leading dots (hidden files), at most 112 characters and 180 UTF-8
 * bytes (before its extension); `fallback` when
 * nothing is left. The extension is added by the caller.
 */
export function safeFileName(raw: string, fallback: string): string {
  const cleaned = raw
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+|[.\s]+$/g, '');
  return cut(cleaned, MAX_NAME_CHARS - 8, MAX_BASE_BYTES).replace(/[.\s]+$/, '') || fallback;
}

/**
 * Makes base names unique in the order given: the first keeps its name, later ones become
 * `name-2`, `name-3`, … (compared without case, as on macOS and Windows file systems), so that a
 * row's `.html` and `.pdf` keep one base.
 */
export class UniqueNames {
  readonly #taken = new Set<string>();

  take(base: string): string {
    let name = base;
    for (let n = 2; this.#taken.has(name.toLowerCase()); n++) name = `${base}-${n}`;
    this.#taken.add(name.toLowerCase());
    return name;
  }
}
