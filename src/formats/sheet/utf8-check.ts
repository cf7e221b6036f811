// A CSV is read as UTF-8. Its first bytes are checked when the file comes in (sniff.ts); the rest
// is checked as each batch of rows is read: a byte that is not UTF-8 fails the row it is in
// (`invalid_sheet`) instead of being decoded to U+FFFD and written back as if it were the user's
// text. A range too long for a batch is streamed, and fails at the first such byte.
import { isUtf8 } from 'node:buffer';
import { Transform } from 'node:stream';
import { ReamError } from '../../errors.ts';
import type { CellValue } from '../types.ts';

function notUtf8(where: string): ReamError {
  return ReamError.nonRetryable('invalid_sheet', `${where} holds bytes that are not UTF-8: ream reads a CSV as UTF-8 text (save it as UTF-8)`);
}

/**
 * What stands for a byte that is not UTF-8 once the batch is decoded: U+FDD0, a noncharacter,
 * which text meant for interchange never holds.
 */
export const NOT_UTF8 = '\uFDD0';
const NOT_UTF8_BYTES = Buffer.from(NOT_UTF8);

/** How many continuation bytes (0x80–0xBF) follow `lead`, and the range the first of them must be in; undefined for a byte no character starts with. */
function sequence(lead: number): [count: number, low: number, high: number] | undefined {
  if (lead >= 0xc2 && lead <= 0xdf) return [1, 0x80, 0xbf];
  if (lead === 0xe0) return [2, 0xa0, 0xbf];
  if ((lead >= 0xe1 && lead <= 0xec) || lead === 0xee || lead === 0xef) return [2, 0x80, 0xbf];
  if (lead === 0xed) return [2, 0x80, 0x9f];
  if (lead === 0xf0) return [3, 0x90, 0xbf];
  if (lead >= 0xf1 && lead <= 0xf3) return [3, 0x80, 0xbf];
  if (lead === 0xf4) return [3, 0x80, 0x8f];
  return undefined;
}

/**
 * `bytes` (whole records) as they are when they are UTF-8; otherwise a copy in which every byte
 * that does not belong to a well-formed character is {@link NOT_UTF8}. Delimiters, quotes and
 * line ends are ASCII, so the records keep their bounds.
 */
export function markNotUtf8(bytes: Buffer): { bytes: Buffer; marked: boolean } {
  if (isUtf8(bytes)) return { bytes, marked: false };
  const out: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const shape = sequence(lead);
    let length = 0;
    if (shape) {
      const [count, low, high] = shape;
      length = 1;
      for (let k = 1; k <= count; k++) {
        const next = bytes[i + k];
        const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf];
        if (next === undefined || next < min || next > max) {
          length = 0;
          break;
        }
        length++;
      }
    }
    if (length > 0) {
      i += length;
      continue;
    }
    out.push(bytes.subarray(from, i), NOT_UTF8_BYTES);
    from = ++i;
  }
  out.push(bytes.subarray(from));
  return { bytes: Buffer.concat(out), marked: true };
}

/** The message of a row one of whose cells holds {@link NOT_UTF8}; undefined when none does. */
export function notUtf8Row(cells: readonly CellValue[], row: number): string | undefined {
  return cells.some((cell) => typeof cell === 'string' && cell.includes(NOT_UTF8)) ? `row ${row} holds bytes that are not UTF-8: ream reads a CSV as UTF-8 text (save it as UTF-8)` : undefined;
}

/**
 * A pass-through of a CSV's bytes from offset `start` that fails (`invalid_sheet`) at the first
 * byte that is not UTF-8, naming the stretch it is in; a character split across chunks is fine.
 */
export function utf8Checked(start: number): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = start;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        return done(notUtf8(`the CSV's bytes ${offset}–${offset + chunk.length}`));
      }
      offset += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      try {
        decoder.decode();
      } catch {
        return done(notUtf8(`the CSV's last bytes (before ${offset})`));
      }
      done();
    },
  });
}
