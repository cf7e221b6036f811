// Whether an image file was cut short (an interrupted download or copy). Decoders are lenient
// with such files: a PNG or JPEG decodes to its top part over grey, a TIFF whose frame list
// points past the end loses its later frames. The text OCR finds there is real but partial, so
// the page is read and warned about (`invalid_image`), never a plain success.
import { JPEG_MEDIA_TYPE, PNG_MEDIA_TYPE, TIFF_MEDIA_TYPE, WEBP_MEDIA_TYPE } from '../sniff.ts';

const IEND = Buffer.from('IEND');
const SOS = Buffer.from([0xff, 0xda]);
const EOI = Buffer.from([0xff, 0xd9]);

/** What is missing from `bytes` when the file was cut short; undefined when it is whole (as far as its structure tells). */
export function truncation(bytes: Buffer, mediaType: string): string | undefined {
  switch (mediaType) {
    case PNG_MEDIA_TYPE:
      // IEND is a PNG's last chunk.
      return bytes.includes(IEND) ? undefined : 'the PNG file is cut short (it has no IEND chunk): only its first part could be read';
    case JPEG_MEDIA_TYPE: {
      // The last scan (FFDA) is followed by the end-of-image marker; a thumbnail's own EOI, earlier, does not count.
      const scan = bytes.lastIndexOf(SOS);
      return scan !== -1 && bytes.indexOf(EOI, scan) === -1 ? 'the JPEG file is cut short (its last scan has no end marker): only its first part could be read' : undefined;
    }
    case WEBP_MEDIA_TYPE:
      // RIFF's size field (bytes 4–7) counts the file after its first 8 bytes.
      return bytes.length >= 12 && bytes.readUInt32LE(4) + 8 > bytes.length ? 'the WebP file is shorter than its header says: only its first part could be read' : undefined;
    case TIFF_MEDIA_TYPE:
      return tiffTruncation(bytes);
    default:
      return undefined;
  }
}

/** A TIFF's frame list (IFD chain) and strips must lie within the file. */
function tiffTruncation(bytes: Buffer): string | undefined {
  if (bytes.length < 8) return undefined;
  const little = bytes[0] === 0x49;
  const u16 = (at: number): number => (little ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number): number => (little ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const seen = new Set<number>();
  for (let offset = u32(4), frame = 1; offset !== 0; frame++) {
    if (seen.has(offset)) return undefined; // a loop: the decoder's own checks answer for it
    seen.add(offset);
    if (offset + 2 > bytes.length) return `the TIFF file is cut short: frame ${frame} is past its end (the frames before it were read)`;
    const entries = u16(offset);
    const next = offset + 2 + entries * 12;
    if (next + 4 > bytes.length) return `the TIFF file is cut short inside frame ${frame}'s tags`;
    const stripEnd = stripsEnd(bytes, offset, entries, u16, u32);
    if (stripEnd > bytes.length) return `the TIFF file is cut short: frame ${frame}'s pixels run past its end`;
    offset = u32(next);
  }
  return undefined;
}

/** Where a frame's last strip (or tile) ends, from its offsets (273, 324) and byte counts (279, 325); 0 when they cannot be read. */
function stripsEnd(bytes: Buffer, ifd: number, entries: number, u16: (at: number) => number, u32: (at: number) => number): number {
  const values = (tag: number): number[] => {
    for (let i = 0; i < entries; i++) {
      const at = ifd + 2 + i * 12;
      if (u16(at) !== tag) continue;
      const type = u16(at + 2);
      const count = u32(at + 4);
      const size = type === 3 ? 2 : type === 4 ? 4 : 0;
      if (size === 0 || count > 1_000_000) return [];
      const base = count * size <= 4 ? at + 8 : u32(at + 8);
      if (base + count * size > bytes.length) return [];
      return Array.from({ length: count }, (_, k) => (size === 2 ? u16(base + k * 2) : u32(base + k * 4)));
    }
    return [];
  };
  const offsets = [...values(273), ...values(324)];
  const counts = [...values(279), ...values(325)];
  let end = 0;
  offsets.forEach((start, k) => (end = Math.max(end, start + (counts[k] ?? 0))));
  return end;
}
