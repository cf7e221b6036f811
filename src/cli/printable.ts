/**
 * Text for one line of a terminal: control characters (a newline in a file name would forge a
 * line of its own), and the bidirectional overrides and isolates that reorder what a terminal
 * shows, written as `\u{…}` escapes. File names are the user's, but a folder of files from
 * elsewhere may hold any name.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (char) => `\\u{${char.codePointAt(0)?.toString(16) ?? ''}}`);
}
