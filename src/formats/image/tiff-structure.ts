// A TIFF's directory structure, checked before utif2 reads it. `UTIF.decode` follows the frame
// list (each IFD ends with the offset of the next) and every sub-IFD a tag points to (SubIFDs,
// Exif, GPS…) without remembering where it has been, and reads as many values as each tag
// declares: a 20 KB file whose last frame points back to itself held it for 22 s and 650 MB
// before the heap cap stopped it. Here the same structure is walked with a memory of offsets and
// a budget, so such a file is refused (`invalid_image`) in one quick pass.
import { ReamError } from '../../errors.ts';

/** Tags whose values utif2 reads as offsets of further IFDs: SubIFDs, Exif, GPS, Fuji's. */
const SUB_IFD_TAGS = new Set([330, 34665, 34853, 61440]);
/** DNGPrivateData: utif2 reads an IFD where its first four bytes point, when that looks like one. */
const DNG_PRIVATE_DATA = 50740;
/** Most sub-IFDs in all: real files have a few per frame (Exif, GPS, a thumbnail). */
export const MAX_SUB_IFDS = 10_000;
/** Bytes per value of the TIFF field types utif2 reads into arrays (BYTE, ASCII, SHORT, LONG, RATIONAL, …, IFD). */
const TYPE_SIZES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

/**
 * Throws `invalid_image` when reading the structure would not end (the frame list or the
 * sub-IFDs loop) or would hold far more than the file (tags declaring more values, in all, than
 * a few times its size). What lies past the end of the file is left to the decoder and to the
 * truncation check (image-truncation.ts): a file cut short is still read as far as it goes.
 */
export function checkTiffStructure(bytes: Buffer): void {
  if (bytes.length < 8) return;
  const little = bytes[0] === 0x49;
  const inside = (at: number, size: number): boolean => at >= 0 && at + size <= bytes.length;
  const u16 = (at: number): number => (!inside(at, 2) ? 0 : little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number): number => (!inside(at, 4) ? 0 : little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  // Values utif2 copies into arrays, in all IFDs read: a file's own tags hold less than the file.
  const valueBudget = 4 * bytes.length + 2 ** 20;
  let values = 0;
  let subIfds = 0;

  /** Each sub-IFD offset IFD `at`'s tags point to, the tags' sizes counted against the budget. */
  const readIfd = (at: number, frame: number): number[] => {
    const found: number[] = [];
    const entries = u16(at);
    for (let i = 0; i < entries && inside(at + 2 + i * 12, 12); i++) {
      const entry = at + 2 + i * 12;
      const tag = u16(entry);
      const count = u32(entry + 4);
      const size = TYPE_SIZES[u16(entry + 2)] ?? 0;
      values += count * size;
      if (values > valueBudget) {
        throw invalid(`the TIFF's tags declare more values than the file could hold (frame ${frame}, tag ${tag}: ${count} values)`);
      }
      const base = count * size <= 4 ? entry + 8 : u32(entry + 8);
      if (SUB_IFD_TAGS.has(tag) && (size === 2 || size === 4)) {
        for (let k = 0; k < count; k++) found.push(subIfd(size === 2 ? u16(base + 2 * k) : u32(base + 4 * k)));
      } else if (tag === DNG_PRIVATE_DATA && u16(u32(base)) < 300) {
        found.push(subIfd(u32(base)));
      }
    }
    return found;
  };
  // utif2 reads sub-IFDs depth first, as often as they are pointed to: counted the same way, a
  // sub-IFD that points back to its parent (or a few that point to each other many times over)
  // runs into the limit instead of recursing without end.
  const subIfd = (offset: number): number => {
    if (++subIfds > MAX_SUB_IFDS) throw invalid(`the TIFF's frames point to more than ${MAX_SUB_IFDS} sub-images (SubIFDs, Exif): its sub-images loop or repeat`);
    return offset;
  };

  const frames = new Map<number, number>();
  for (let offset = u32(4), frame = 1; offset !== 0 && inside(offset, 2); frame++) {
    const earlier = frames.get(offset);
    // TIFF 6.0, section 2: "the last IFD [is] followed by 4 bytes of 0" — a list that returns to an IFD never ends.
    if (earlier !== undefined) throw invalid(`the TIFF's frame list loops: frame ${frame - 1} points back to frame ${earlier}`);
    frames.set(offset, frame);
    const pending = readIfd(offset, frame);
    for (let sub = pending.pop(); sub !== undefined; sub = pending.pop()) {
      if (inside(sub, 2)) for (const next of readIfd(sub, frame)) pending.push(next);
    }
    offset = u32(offset + 2 + u16(offset) * 12);
  }
}

function invalid(text: string): ReamError {
  return ReamError.nonRetryable('invalid_image', text);
}
