/** Longest file name a report gets, extension included (file systems allow 255 bytes). */
const MAX_NAME_CHARS = 120;

/**
 * A file name from a rendered name template: no path separators, no `..`, no control or
 * reserved characters, no leading dots (hidden files), at most 120 characters; `fallback` when
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
  return [...cleaned].slice(0, MAX_NAME_CHARS - 8).join('') || fallback;
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
