// Office files that are not ZIP archives are OLE2 compound files (MS-CFB): the legacy .doc, .xls
// and .ppt, and every password-protected .docx, .xlsx or .pptx, whose ZIP is encrypted into an
// OLE2 container with the streams `EncryptionInfo` and `EncryptedPackage` (MS-OFFCRYPTO §2.3.4.1).
// Their first bytes look alike; the container's directory tells them apart, so that a user is
// told to remove a password, or to save a legacy file in the current format, rather than only
// that an "OLE2 file" cannot be read.
import { open, type FileHandle } from 'node:fs/promises';
import { ReamError } from '../../errors.ts';
import { isOle2, label, sniff } from '../sniff.ts';
import { OleDirectoryScan } from './ole-stream.ts';

/** Sector ids from here up are markers (end of chain, free, FAT, DIFAT), not sectors. */
const MAX_SECTOR_ID = 0xfffffffa;
/** Directory sectors read at most: a chain that loops, or a directory of thousands of entries, stops here. */
const MAX_DIRECTORY_SECTORS = 1024;
/** DIFAT sectors followed at most (each lists the FAT sectors past the header's 109). */
const MAX_DIFAT_SECTORS = 1024;
const HEADER_FAT_IDS = 109;

/** The names of the entries of the compound file's directory (streams and storages); empty when it has none readable. */
async function directoryNames(file: FileHandle): Promise<string[]> {
  const read = async (offset: number, length: number): Promise<Buffer> => {
    const bytes = Buffer.alloc(length);
    const { bytesRead } = await file.read(bytes, 0, length, offset);
    return bytes.subarray(0, bytesRead);
  };
  const header = await read(0, 512);
  if (header.length < 512) return [];
  const size = 2 ** header.readUInt16LE(0x1e); // 512 (version 3) or 4096 (version 4)
  if (size !== 512 && size !== 4096) return [];
  const sector = (id: number): Promise<Buffer> => read((id + 1) * size, size);
  const idsPerSector = size / 4;
  // The FAT's own sectors: the first 109 listed in the header, the rest in a chain of DIFAT sectors.
  const fatSectors: number[] = [];
  for (let i = 0; i < HEADER_FAT_IDS; i++) fatSectors.push(header.readUInt32LE(0x4c + i * 4));
  for (let id = header.readUInt32LE(0x44), n = 0; id < MAX_SECTOR_ID && n < MAX_DIFAT_SECTORS; n++) {
    const difat = await sector(id);
    if (difat.length < size) break;
    for (let i = 0; i < idsPerSector - 1; i++) fatSectors.push(difat.readUInt32LE(i * 4));
    id = difat.readUInt32LE(size - 4);
  }
  const fat = new Map<number, Buffer>();
  const next = async (id: number): Promise<number> => {
    const fatSector = fatSectors[Math.floor(id / idsPerSector)];
    if (fatSector === undefined || fatSector >= MAX_SECTOR_ID) return MAX_SECTOR_ID;
    let entries = fat.get(fatSector);
    if (!entries) fat.set(fatSector, (entries = await sector(fatSector)));
    const at = (id % idsPerSector) * 4;
    return at + 4 <= entries.length ? entries.readUInt32LE(at) : MAX_SECTOR_ID;
  };
  const names: string[] = [];
  for (let id = header.readUInt32LE(0x30), n = 0; id < MAX_SECTOR_ID && n < MAX_DIRECTORY_SECTORS; id = await next(id), n++) {
    const entries = await sector(id);
    // 128-byte entries: the name in UTF-16LE, its length in bytes with its NUL at 0x40, the type at 0x42 (0: unused).
    for (let at = 0; at + 128 <= entries.length; at += 128) {
      const length = entries.readUInt16LE(at + 0x40);
      if (entries[at + 0x42] === 0 || length < 2 || length > 64) continue;
      names.push(entries.toString('utf16le', at, at + length - 2));
    }
  }
  return names;
}

/** What the legacy Office file with these directory entries is, by its main stream, and what to do; undefined for none of them. */
function legacyKind(names: ReadonlySet<string>): { what: string; advice: string } | undefined {
  if (names.has('Workbook') || names.has('Book')) return { what: 'a legacy Excel 97–2003 workbook (.xls)', advice: 'save it as .xlsx to have it read' };
  if (names.has('WordDocument')) return { what: 'a legacy Word 97–2003 document (.doc)', advice: 'save it as .docx to have it read' };
  if (names.has('PowerPoint Document')) return { what: 'a PowerPoint 97–2003 presentation (.ppt)', advice: 'ream does not read presentations' };
  return undefined;
}

/**
 * Why the OLE2 file at `path` cannot be read, said as precisely as its directory allows:
 * `encrypted_file` for a password-protected Office document, `unsupported_type` naming a legacy
 * one; undefined when the directory says neither (the caller's own error stands).
 */
export async function oleRefusal(path: string, label: string): Promise<ReamError | undefined> {
  let names: Set<string>;
  try {
    const file = await open(path, 'r');
    try {
      names = new Set(await directoryNames(file));
    } finally {
      await file.close();
    }
  } catch {
    return undefined; // unreadable as a compound file: what its first bytes said is all there is
  }
  return refusalOfNames(names, label);
}

/** {@link oleRefusal} for a directory with these entries. */
function refusalOfNames(names: ReadonlySet<string>, label: string): ReamError | undefined {
  if (names.has('EncryptedPackage') && names.has('EncryptionInfo')) {
    return ReamError.nonRetryable('encrypted_file', `${label} is a password-protected (encrypted) Office document, which ream cannot open: save it without a password and submit it again`);
  }
  const legacy = legacyKind(names);
  if (legacy === undefined) return undefined;
  return ReamError.nonRetryable('unsupported_type', `${label} is ${legacy.what}, which ream cannot read: ${legacy.advice}`, { details: { detected: legacy.what } });
}

/**
 * {@link sniff} for a file on disk: an OLE2 file it refuses is refused as its directory says
 * (a password-protected Office document: `encrypted_file`).
 */
export async function sniffFile(path: string, head: Uint8Array, name: string): Promise<string> {
  try {
    return sniff(head, name);
  } catch (error) {
    if (!isOle2(head)) throw error;
    throw (await oleRefusal(path, label(name))) ?? error;
  }
}

/**
 * {@link oleRefusal} for content that arrives as a stream (an upload): its bytes (`head`, then
 * the rest of `rest`, if any) are read to their end once, as they come, and the directory is
 * found among them (ole-stream.ts): no copy of the upload is written, and what is kept of it is
 * at most its FAT (16 MiB), the sectors that may be FAT sectors (8 MiB) and its directory
 * (4 MiB). Past `maxBytes` the rest is read but not looked at, and undefined is returned (the
 * caller's own error stands, as for a directory that says nothing). An error of the stream
 * itself (the client gone, a limit) is thrown.
 */
export async function oleRefusalOfStream(head: readonly Uint8Array[], rest: AsyncIterator<Uint8Array> | undefined, name: string, maxBytes: number): Promise<ReamError | undefined> {
  const scan = new OleDirectoryScan();
  let length = 0;
  const feed = (chunk: Uint8Array): void => {
    length += chunk.length;
    if (length <= maxBytes) scan.push(chunk);
  };
  for (const chunk of head) feed(chunk);
  if (rest !== undefined) for (let next = await rest.next(); next.done !== true; next = await rest.next()) feed(next.value);
  return length <= maxBytes ? refusalOfNames(new Set(scan.names()), label(name)) : undefined;
}
