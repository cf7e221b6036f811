// ZIP archives written directly (APPNOTE 6.3.10, sections 4.3.7, 4.3.12 and 4.3.16): JSZip takes
// seconds to deflate hundreds of MB or to write tens of thousands of entries, where a bomb built
// here reuses one deflated entry and costs milliseconds.
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** The entry's bytes, inflated. */
  data: Buffer;
}

/** An entry's bytes as stored: deflated (method 8) once, for entries that share their bytes. */
export interface StoredEntry {
  name: string;
  method: 0 | 8;
  stored: Buffer;
  crc: number;
  size: number;
  /** Marked encrypted (flag bit 0), though its bytes are not: a reader without the password stops there. */
  encrypted?: boolean;
}

/** `entry` deflated; reuse the result for every entry of the same bytes. */
export function deflated(entry: ZipEntry): StoredEntry {
  return { name: entry.name, method: 8, stored: deflateRawSync(entry.data), crc: crc32(entry.data), size: entry.data.length };
}

/** `entry` stored as it is (method 0). */
export function stored(entry: ZipEntry): StoredEntry {
  return { name: entry.name, method: 0, stored: entry.data, crc: crc32(entry.data), size: entry.data.length };
}

/** A ZIP archive of `entries`, in order. */
export function makeZip(entries: readonly StoredEntry[]): Buffer {
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    const flags = 0x0800 | (entry.encrypted ? 1 : 0); // names in UTF-8; encrypted
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt32LE(entry.crc, 14);
    local.writeUInt32LE(entry.stored.length, 18);
    local.writeUInt32LE(entry.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(entry.method, 10);
    central.writeUInt32LE(entry.crc, 16);
    central.writeUInt32LE(entry.stored.length, 20);
    central.writeUInt32LE(entry.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.stored);
    directory.push(central, name);
    offset += local.length + name.length + entry.stored.length;
  }
  if (entries.length > 0xffff) throw new Error('more entries than a ZIP without ZIP64 holds');
  const size = directory.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...directory, end]);
}
