// A pass over a message's MIME structure (RFC 2045, 2046) before postal-mime parses it, for
// what the parser does not tell: a multipart body cut short (its closing boundary never comes)
// or with no part at all (its boundary never appears),
// a base64 part that is no base64 (the parser decodes it leniently into garbage), and a header
// section over the limit, which is counted per part here (the parser counts the whole message's
// headers together, so a message of many attachments was refused). Parts whose base64 is bad
// are blanked in the bytes handed to the parser: their garbage reaches neither the text nor an
// attachment, and each is named in a warning instead. Body text whose base64 is followed by
// lines of something else (a footer) keeps the text its base64 holds; only those lines go.
import { ReamError } from '../../errors.ts';

/** One part's header section at most (its lines as written, line ends included). */
export const MAX_PART_HEADER_BYTES = 1024 * 1024;
/** Deeper than this the scan stops looking (the parser refuses the nesting itself). */
const MAX_SCAN_DEPTH = 32;

export interface BadBase64Part {
  /** 1-based, among the message's leaf parts in order. */
  part: number;
  mimeType: string;
  filename: string | null;
  /** Whether the parser reads it as the body's text (an inline text part without a file name). */
  bodyText: boolean;
  /**
   * Set for body text whose base64 lines end in lines of something else (a footer that a list or
   * a gateway added): those bytes are left out, and the text before them is read.
   */
  leftOutBytes?: number;
}

export interface MimeScan {
  /** The bytes for the parser: the input, with the bodies of bad base64 parts removed. */
  bytes: Uint8Array;
  badBase64: BadBase64Part[];
  /** Multipart bodies whose closing boundary never came, by their boundary. */
  cutShort: string[];
  /** Multipart bodies in which their boundary never appears (the parser keeps them as written), by their boundary. */
  undelimited: string[];
}

interface Header {
  /** Where the body starts (after the empty line, or at the first line that is no field), or `end` for a part of headers only. */
  bodyStart: number;
  fields: Map<string, string>;
}

const LF = 0x0a;
/** How a header field's line starts (as postal-mime tells one): a name and a colon, or a mailbox's `From ` line. */
const FIELD_START = /^(?:From |[!-9;-~]*[ \t]*:)/;

/** The end of the line starting at `at` (the index of its LF, or `end`). */
function lineEnd(bytes: Uint8Array, at: number, end: number): number {
  const lf = bytes.indexOf(LF, at);
  return lf === -1 || lf >= end ? end : lf;
}

/** The line `[start, stop)` without its CR. */
function lineText(bytes: Uint8Array, start: number, stop: number): string {
  const last = stop > start && bytes[stop - 1] === 0x0d ? stop - 1 : stop;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, last - start).toString('latin1');
}

/** The header section from `start`: its fields (unfolded, names lowercased), `invalid_email` when over the limit. */
function readHeader(bytes: Uint8Array, start: number, end: number): Header {
  const fields = new Map<string, string>();
  let name: string | undefined;
  for (let at = start; at < end;) {
    const stop = lineEnd(bytes, at, end);
    const next = Math.min(stop + 1, end);
    if (next - start > MAX_PART_HEADER_BYTES) {
      throw ReamError.nonRetryable('invalid_email', `the message cannot be read: a header section (of the message or of one of its parts) is over ${MAX_PART_HEADER_BYTES} bytes`);
    }
    const line = lineText(bytes, at, stop);
    if (line === '') return { bodyStart: next, fields };
    // A line that is neither a field nor a fold ends the header section, as for the parser:
    // the body follows the header without the empty line.
    if (!FIELD_START.test(line) && !line.startsWith(' ') && !line.startsWith('\t')) return { bodyStart: at, fields };
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (name !== undefined) fields.set(name, `${fields.get(name) ?? ''} ${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : undefined;
      // The first of a field given twice counts, as for the parser; the others are passed over.
      if (name !== undefined && fields.has(name)) name = undefined;
      if (name !== undefined) fields.set(name, line.slice(colon + 1).trim());
    }
    at = next;
  }
  return { bodyStart: end, fields };
}

/**
 * A parameter of a structured field (`boundary`, `filename`, `name`), unquoted; an RFC 2231
 * extended value (`key*=charset'language'percent-encoded`) decoded. Continuations are not joined.
 */
function parameter(value: string | undefined, key: string): string | null {
  const match = value === undefined ? null : new RegExp(`;\\s*${key}(\\*?)=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i').exec(value);
  if (!match) return null;
  const raw = match[2] === undefined ? (match[3] ?? '') : match[2].replace(/\\(.)/g, '$1');
  if (match[1] !== '*') return raw;
  const encoded = /^[^']*'[^']*'(.*)$/.exec(raw)?.[1] ?? raw;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded; // not UTF-8 percent-encoding: the bytes as written, as a boundary compares them
  }
}

/** Where the base64 of a body ends; `letters`: how many of its alphabet come before that. */
interface Base64Extent {
  end: number;
  letters: number;
}

/**
 * Where the base64 of `[start, end)` ends, read as the parser decodes it: the alphabet, blanks,
 * and `=` closing a unit anywhere (mailers that pad every line, or join encoded pieces, are
 * read). `end` when it is all base64, else the start of its first line with anything else.
 */
function base64Extent(bytes: Uint8Array, start: number, end: number): Base64Extent {
  let line = start;
  let letters = 0;
  let lettersBeforeLine = 0;
  for (let at = start; at < end; at++) {
    const c = bytes[at] ?? 0;
    if (c === LF) {
      line = at + 1;
      lettersBeforeLine = letters;
    } else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f) {
      letters++;
    } else if (c !== 0x3d && c !== 0x0d && c !== 0x20 && c !== 0x09) {
      return { end: line, letters: lettersBeforeLine };
    }
  }
  return { end, letters };
}

interface Walk {
  bytes: Buffer;
  leaves: number;
  badBase64: BadBase64Part[];
  /** Byte ranges of bad base64 bodies, to leave out of the parser's bytes. */
  cuts: Array<[number, number]>;
  cutShort: string[];
  undelimited: string[];
}

/** Walks the entity (header and body) in `[start, end)`. */
function walkEntity(walk: Walk, start: number, end: number, depth: number, inDigest: boolean): void {
  const header = readHeader(walk.bytes, start, end);
  const contentType = header.fields.get('content-type');
  const mimeType = (contentType?.split(';')[0]?.trim().toLowerCase() || (inDigest ? 'message/rfc822' : 'text/plain'));
  const boundary = mimeType.startsWith('multipart/') ? parameter(contentType, 'boundary') : null;
  if (boundary && depth < MAX_SCAN_DEPTH) {
    walkMultipart(walk, boundary, header.bodyStart, end, depth, mimeType === 'multipart/digest');
    return;
  }
  const encoding = header.fields.get('content-transfer-encoding')?.trim().toLowerCase();
  const disposition = header.fields.get('content-disposition');
  // A message the parser reads into this one (inline, as written); one attached is read as a
  // document of its own, which its own scan looks into: its bytes are left as they are.
  const inlineMessage = mimeType === 'message/rfc822' && encoding !== 'base64' && encoding !== 'quoted-printable'
    && ['', 'inline'].includes(disposition?.split(';')[0]?.trim().toLowerCase() ?? '');
  if (inlineMessage && depth < MAX_SCAN_DEPTH) {
    walkEntity(walk, header.bodyStart, end, depth + 1, false);
    return;
  }
  walk.leaves += 1;
  if (encoding !== 'base64') return;
  const base64 = base64Extent(walk.bytes, header.bodyStart, end);
  if (base64.end === end) return;
  const filename = parameter(disposition, 'filename') ?? parameter(contentType, 'name');
  const inline = !disposition?.trim().toLowerCase().startsWith('attachment');
  const bodyText = inline && filename === null && (mimeType === 'text/plain' || mimeType === 'text/html');
  // Text is kept up to where its base64 ends; a file cut there would be another file.
  const keep = bodyText && base64.letters > 0;
  walk.badBase64.push({ part: walk.leaves, mimeType, filename, bodyText, ...(keep ? { leftOutBytes: end - base64.end } : {}) });
  walk.cuts.push([keep ? base64.end : header.bodyStart, end]);
}

/** Whether `[at, stop)` holds only blanks (a delimiter line's transport padding). */
function blanksOnly(bytes: Uint8Array, at: number, stop: number): boolean {
  for (let i = at; i < stop; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0x09 && bytes[i] !== 0x0d) return false;
  return true;
}

/**
 * Walks the parts of a multipart body in `[start, end)` delimited by `boundary`. The delimiter is
 * searched for (`Buffer.indexOf`), not each line read, so that a part's lines cost nothing here:
 * a message nested deep is read once at each level at the speed of that search.
 */
function walkMultipart(walk: Walk, boundary: string, start: number, end: number, depth: number, digest: boolean): void {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let partStart: number | undefined;
  for (let from = start; from < end;) {
    const at = walk.bytes.indexOf(delimiter, from);
    if (at === -1 || at + delimiter.length > end) break;
    from = at + delimiter.length;
    if (at !== start && walk.bytes[at - 1] !== LF) continue; // not at a line's start
    const stop = lineEnd(walk.bytes, from, end);
    const closing = walk.bytes[from] === 0x2d && walk.bytes[from + 1] === 0x2d;
    if (!blanksOnly(walk.bytes, closing ? from + 2 : from, stop)) continue;
    // The line break before a delimiter belongs to it (RFC 2046 §5.1.1).
    if (partStart !== undefined) walkEntity(walk, partStart, Math.max(partStart, at - (walk.bytes[at - 2] === 0x0d ? 2 : 1)), depth + 1, digest);
    if (closing) return;
    partStart = Math.min(stop + 1, end);
    from = partStart;
  }
  if (partStart === undefined) {
    walk.undelimited.push(boundary);
    return;
  }
  walk.cutShort.push(boundary);
  walkEntity(walk, partStart, end, depth + 1, digest);
}

/**
 * Scans the message in `bytes`: `invalid_email` for a part whose header section is over
 * {@link MAX_PART_HEADER_BYTES}; otherwise its bad base64 parts and cut-short multiparts, and
 * the bytes to parse.
 */
export function scanMime(bytes: Uint8Array): MimeScan {
  const walk: Walk = { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), leaves: 0, badBase64: [], cuts: [], cutShort: [], undelimited: [] };
  walkEntity(walk, 0, bytes.length, 0, false);
  const found = { badBase64: walk.badBase64, cutShort: walk.cutShort, undelimited: walk.undelimited };
  if (walk.cuts.length === 0) return { bytes, ...found };
  const kept: Uint8Array[] = [];
  let at = 0;
  for (const [from, to] of walk.cuts) {
    kept.push(bytes.subarray(at, from));
    at = to;
  }
  kept.push(bytes.subarray(at));
  return { bytes: Buffer.concat(kept), ...found };
}
