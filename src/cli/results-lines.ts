// The lines of a results file an earlier run wrote, read a chunk at a time: a file of many
// documents' text (`--text full`), or one document of more text than a string holds (written in
// pieces, results-file.ts), is more than 512 MiB, which one string of the whole file cannot hold.
import { readSync, writeSync } from 'node:fs';
import type { ResultLine } from './results-file.ts';

/** How every line ream writes begins (`path` is the first key of every result line). */
export const LINE_START = '{"path":';

const STATUSES: readonly string[] = ['succeeded', 'partially_succeeded', 'failed', 'cancelled'] satisfies ResultLine['status'][];

/** Whether `raw` is a line ream wrote: a JSON object with a `path`, a `status` and a `sha256`. */
export function resultLineOf(raw: string): { path: string; status: string } | undefined {
  if (!raw.startsWith(LINE_START)) return undefined;
  try {
    const parsed = JSON.parse(raw) as Partial<Record<string, unknown>>;
    if (typeof parsed.path !== 'string' || typeof parsed.status !== 'string' || !STATUSES.includes(parsed.status) || !('sha256' in parsed)) return undefined;
    return { path: parsed.path, status: parsed.status };
  } catch {
    return undefined;
  }
}

/**
 * Bytes of a line read whole; a longer one is told by its start (up to this many bytes): ream
 * writes a line's text (`text` or `pages`) last, so what comes before it is the line's path,
 * status and the rest, and a line that long is never made one string.
 */
export const WHOLE_LINE_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 8 * 1024 * 1024;

/** One line of the file: its bytes `start`–`end` (its newline at `end`, when `complete`) and what it is. */
export interface FileLine {
  start: number;
  end: number;
  complete: boolean;
  /** The result line it is, undefined when it is none. */
  line: { path: string; status: string } | undefined;
  /** Its first characters (as much as {@link LINE_START} needs to tell a torn line). */
  begins: string;
}

/** The lines of the file open as `fd`, from its top; the last is not `complete` when no newline ends it. */
export function* fileLines(fd: number): Generator<FileLine> {
  let start = 0;
  let length = 0;
  let head: Buffer[] = [];
  let headBytes = 0;
  let last = 0;
  const lineOf = (complete: boolean): FileLine => {
    const text = Buffer.concat(head).toString('utf8');
    const whole = length <= WHOLE_LINE_BYTES;
    const line = whole ? resultLineOf(text) : last === 0x7d ? longLineOf(text) : undefined; // 0x7d: the `}` a line ends with
    return { start, end: start + length, complete, line, begins: text.slice(0, LINE_START.length) };
  };
  for (let at = 0; ;) {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const read = readSync(fd, chunk, 0, CHUNK_BYTES, at);
    if (read === 0) break;
    at += read;
    for (let from = 0; from < read;) {
      const newline = chunk.indexOf(0x0a, from);
      const to = newline === -1 || newline >= read ? read : newline;
      if (to > from) {
        if (headBytes < WHOLE_LINE_BYTES) {
          const kept = chunk.subarray(from, Math.min(to, from + WHOLE_LINE_BYTES - headBytes));
          head.push(kept);
          headBytes += kept.length;
        }
        length += to - from;
        last = chunk[to - 1]!;
      }
      if (to === read) break;
      yield lineOf(true);
      start += length + 1;
      length = 0;
      head = [];
      headBytes = 0;
      last = 0;
      from = to + 1;
    }
  }
  if (length > 0) yield lineOf(false);
}

/**
 * A line too long to read whole, by what precedes its text: its top-level `"text"` or `"pages"`
 * key (a key at depth 1 follows `{` or `,`; a string's own quotes are escaped) ends its head,
 * which is then read as a line of its own.
 */
function longLineOf(start: string): { path: string; status: string } | undefined {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let key = -1;
  for (let i = 0; i < start.length; i++) {
    const c = start[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') {
        inString = false;
        const name = key >= 0 ? start.slice(key, i + 1) : '';
        if ((name === '"text"' || name === '"pages"') && start[i + 1] === ':') return resultLineOf(`${start.slice(0, key - 1)}}`);
      }
    } else if (c === '"') {
      inString = true;
      key = depth === 1 && (start[i - 1] === ',' || start[i - 1] === '{') ? i : -1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return undefined;
}

/** Copies bytes `start`–`end` of the file open as `from` to the end of `to`, a chunk at a time. */
export function copyBytes(from: number, to: number, start: number, end: number): void {
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(end - start, 1)));
  for (let at = start; at < end;) {
    const read = readSync(from, chunk, 0, Math.min(chunk.length, end - at), at);
    if (read === 0) throw new Error(`the file ended at byte ${at}, before ${end}`);
    for (let written = 0; written < read;) written += writeSync(to, chunk, written, read - written);
    at += read;
  }
}
