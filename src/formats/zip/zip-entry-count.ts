// How many entries a ZIP archive declares, read from its end-of-central-directory record before
// unzipper reads the directory itself: unzipper reads every record the end record counts (one
// promise each: 60,000 empty entries, a 7 MB file, take seconds per read, and a Word document is
// read three times), so an archive with more than real office files hold is refused first.
import { open } from 'node:fs/promises';
import { ReamError } from '../../errors.ts';

/** Most entries an archive may declare: real Word documents and workbooks hold tens, or hundreds with many pictures. */
export const MAX_ZIP_ENTRIES = 10_000;

/** Where unzipper looks for the end record: the first signature in the file's last 80 bytes (its `tailSize`). */
const TAIL = 80;
const END = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;

/** Throws `resource_limit` when the archive at `path` declares more than {@link MAX_ZIP_ENTRIES} entries. A record that cannot be read is left to unzipper to refuse. */
export async function checkZipEntryCount(path: string): Promise<void> {
  const entries = await declaredEntries(path);
  if (entries !== undefined && entries > MAX_ZIP_ENTRIES) {
    throw ReamError.nonRetryable('resource_limit', `the archive declares ${entries} entries; ream reads archives of at most ${MAX_ZIP_ENTRIES}`, {
      details: { entries, maxEntries: MAX_ZIP_ENTRIES },
    });
  }
}

/** The entry count as unzipper will take it: from the end record (APPNOTE 4.3.16), or its ZIP64 one (4.3.14) when that says so. */
async function declaredEntries(path: string): Promise<number | undefined> {
  const file = await open(path, 'r');
  try {
    const read = async (at: number, length: number): Promise<Buffer | undefined> => {
      if (at < 0) return undefined;
      const { buffer, bytesRead } = await file.read(Buffer.alloc(length), 0, length, at);
      return bytesRead === length ? buffer : undefined;
    };
    const { size } = await file.stat();
    const tailStart = Math.max(0, size - TAIL);
    const tail = await read(tailStart, size - tailStart);
    const at = tail?.indexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) ?? -1;
    const end = tail && at !== -1 && at + 22 <= tail.length ? tail.subarray(at, at + 22) : undefined;
    if (!end || end.readUInt32LE(0) !== END) return undefined;
    const records = end.readUInt16LE(10);
    if (records !== 0xffff && end.readUInt32LE(16) !== 0xffffffff) return records;
    const locator = await read(tailStart + at - 20, 20);
    if (!locator || locator.readUInt32LE(0) !== ZIP64_LOCATOR) return undefined;
    const zip64 = await read(Number(locator.readBigUInt64LE(8)), 56);
    return zip64 && zip64.readUInt32LE(0) === ZIP64_END ? Number(zip64.readBigUInt64LE(32)) : undefined;
  } finally {
    await file.close();
  }
}
