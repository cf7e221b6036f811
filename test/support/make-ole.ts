// OLE2 compound files (MS-CFB, version 3: 512-byte sectors) with the directory entries given and
// no stream data: what tells a password-protected Office document (`EncryptionInfo`,
// `EncryptedPackage`) from a legacy one (`Workbook`, `WordDocument`) is its directory alone.
// The directory spans two sectors, chained through the FAT, as a real file's often does.

const SECTOR = 512;
const FREE = 0xffffffff;
const END_OF_CHAIN = 0xfffffffe;
const FAT_SECTOR = 0xfffffffd;

function entry(name: string, type: number): Buffer {
  const bytes = Buffer.alloc(128);
  bytes.write(name, 0, 'utf16le');
  bytes.writeUInt16LE((name.length + 1) * 2, 0x40);
  bytes[0x42] = type; // 5: the root storage, 2: a stream
  for (const at of [0x44, 0x48, 0x4c]) bytes.writeUInt32LE(FREE, at); // no siblings, no child
  bytes.writeUInt32LE(END_OF_CHAIN, 0x74);
  return bytes;
}

/** A compound file whose directory holds a root entry and a stream for each of `streams` (at most 4). */
export function makeOle(streams: readonly string[]): Buffer {
  const header = Buffer.alloc(SECTOR);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header);
  header.writeUInt16LE(0x3e, 0x18);
  header.writeUInt16LE(3, 0x1a);
  header.writeUInt16LE(0xfffe, 0x1c);
  header.writeUInt16LE(9, 0x1e); // 2^9 = 512-byte sectors
  header.writeUInt16LE(6, 0x20);
  header.writeUInt32LE(1, 0x2c); // one FAT sector
  header.writeUInt32LE(1, 0x30); // the directory starts at sector 1
  header.writeUInt32LE(4096, 0x38);
  header.writeUInt32LE(END_OF_CHAIN, 0x3c);
  header.writeUInt32LE(END_OF_CHAIN, 0x44);
  header.writeUInt32LE(0, 0x4c); // the FAT is sector 0
  for (let i = 1; i < 109; i++) header.writeUInt32LE(FREE, 0x4c + i * 4);
  const fat = Buffer.alloc(SECTOR, 0xff);
  fat.writeUInt32LE(FAT_SECTOR, 0);
  fat.writeUInt32LE(2, 4); // directory: sector 1, then 2
  fat.writeUInt32LE(END_OF_CHAIN, 8);
  const first = Buffer.concat([entry('Root Entry', 5), Buffer.alloc(3 * 128)]);
  const second = Buffer.concat([...streams.map((name) => entry(name, 2)), Buffer.alloc((4 - streams.length) * 128)]);
  return Buffer.concat([header, fat, first, second]);
}
