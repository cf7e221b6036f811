// Office files that are OLE2 compound files, not ZIP archives: a password-protected .xlsx or
// .docx is refused with encrypted_file, a legacy .xls or .doc with unsupported_type saying what
// to save it as, both from the container's directory, whatever the file is named, and whether it
// comes with a job or alone to POST /v1/documents.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { oleRefusal } from '../../src/formats/ole/ole-container.ts';
import { OleDirectoryScan } from '../../src/formats/ole/ole-stream.ts';
import { label } from '../../src/formats/sniff.ts';
import { sniffStream } from '../../src/formats/sniff-stream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makeOle } from '../support/make-ole.ts';
import { answerOf, assertProblem } from '../support/problem.ts';

test('a password-protected Office file is encrypted_file, a legacy one unsupported_type naming it; an unknown OLE2 file says both', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-ole-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  try {
    const files: Record<string, Buffer> = {
      'book.xlsx': makeOle(['EncryptionInfo', 'EncryptedPackage', '\u0006DataSpaces']),
      'letter.docx': makeOle(['EncryptedPackage', 'EncryptionInfo']),
      'old.xls': makeOle(['Workbook', '\u0005SummaryInformation']),
      'old-named-new.xlsx': makeOle(['Workbook']),
      'memo.doc': makeOle(['WordDocument', '1Table']),
      'other.xlsx': makeOle(['Contents']),
    };
    const paths = await Promise.all(Object.entries(files).map(async ([name, bytes]) => {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    }));
    const job = await ream.submit({ files: paths });
    assert.equal((await ream.wait(job.id)).status, 'failed');
    const errors = Object.fromEntries((await Array.fromAsync(ream.results(job.id))).map((doc) => [doc.source, doc.error]));
    for (const name of ['book.xlsx', 'letter.docx']) {
      assert.equal(errors[join(dir, name)]?.code, 'encrypted_file', name);
      assert.match(errors[join(dir, name)]?.message ?? '', /is a password-protected \(encrypted\) Office document, which ream cannot open: save it without a password/);
    }
    for (const [name, saveAs] of [['old.xls', 'xlsx'], ['old-named-new.xlsx', 'xlsx'], ['memo.doc', 'docx']] as const) {
      assert.equal(errors[join(dir, name)]?.code, 'unsupported_type', name);
      assert.match(errors[join(dir, name)]?.message ?? '', new RegExp(`is a legacy (Excel|Word) 97–2003 .*save it as \\.${saveAs} to have it read`), name);
    }
    assert.equal(errors[join(dir, 'other.xlsx')]?.code, 'unsupported_type');
    assert.match(errors[join(dir, 'other.xlsx')]?.message ?? '', /an OLE2 file \(a legacy \.doc or \.xls, or a password-protected Office document\)/);
  } finally {
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('POST /v1/documents refuses a password-protected Office file with encrypted_file and a legacy one naming it, as a job does', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-ole-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  const post = async (name: string, bytes: Buffer): Promise<{ code: string; status: number; detail: string }> => {
    const body = new FormData();
    body.append('file', new Blob([bytes]), name);
    return assertProblem(await answerOf(await fetch(`${server.url}/v1/documents`, { method: 'POST', body })), 422, 'encrypted_file');
  };
  try {
    const encrypted = makeOle(['EncryptionInfo', 'EncryptedPackage']);
    // Past the first bytes sniffed, as a real file is: its directory is read from the whole upload.
    for (const [name, bytes] of [['book.xlsx', encrypted], ['letter.docx', Buffer.concat([encrypted, Buffer.alloc(64 * 1024)])]] as const) {
      const problem = await post(name, bytes);
      assert.equal(problem.detail, `"${name}" is a password-protected (encrypted) Office document, which ream cannot open: save it without a password and submit it again`);
    }
    const body = new FormData();
    body.append('file', new Blob([makeOle(['Workbook'])]), 'old.xls');
    const legacy = assertProblem(await answerOf(await fetch(`${server.url}/v1/documents`, { method: 'POST', body })), 415, 'unsupported_type');
    assert.match(legacy.detail, /is a legacy Excel 97–2003 workbook \(\.xls\), which ream cannot read: save it as \.xlsx/);
  } finally {
    await server.close();
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an uploaded OLE2 file is refused from its directory read as it streams: no temporary copy, encrypted_file where none could be made', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-ole-'));
  const tmp = process.env.TMPDIR;
  // A file where the temporary directory should be: no temporary file can be made in it.
  process.env.TMPDIR = join(dir, 'not-a-dir');
  try {
    await writeFile(process.env.TMPDIR, '');
    let read = 0;
    function* upload(): Generator<Uint8Array> {
      for (const chunk of [makeOle(['EncryptionInfo', 'EncryptedPackage']), randomBytes(8 * 1024 * 1024)]) {
        read += chunk.length;
        yield chunk;
      }
    }
    await rejectsWithCode(sniffStream(Readable.from(upload()), 'book.xlsx', 'drain'), 'encrypted_file');
    assert.equal(read, makeOle(['EncryptionInfo', 'EncryptedPackage']).length + 8 * 1024 * 1024, 'the upload is read to its end');
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
    await rm(dir, { recursive: true, force: true });
  }
});

test('a streamed OLE2 directory is found wherever it sits, in chunks of any size, 512- or 4096-byte sectors', () => {
  const encrypted = makeOle(['EncryptionInfo', 'EncryptedPackage']);
  const names = (bytes: Buffer, chunk: number): string[] => {
    const scan = new OleDirectoryScan();
    for (let at = 0; at < bytes.length; at += chunk) scan.push(bytes.subarray(at, at + chunk));
    return scan.names();
  };
  for (const chunk of [1, 7, 512, 65_536]) assert.deepEqual(names(encrypted, chunk), ['Root Entry', 'EncryptionInfo', 'EncryptedPackage'], `chunks of ${chunk}`);
  // The directory after the stream data, its FAT last: its chain cannot be followed as it
  // comes, so the directory-shaped sectors kept are read.
  const header = Buffer.from(encrypted.subarray(0, 512));
  header.writeUInt32LE(100, 0x30); // the directory at sectors 100 and 101, after the data (0–99)
  header.writeUInt32LE(102, 0x4c); // the FAT at sector 102
  const fat = Buffer.alloc(512, 0xff);
  fat.writeUInt32LE(101, 100 * 4);
  fat.writeUInt32LE(0xfffffffe, 101 * 4);
  fat.writeUInt32LE(0xfffffffd, 102 * 4);
  const late = Buffer.concat([header, randomBytes(100 * 512), encrypted.subarray(1024, 2048), fat]);
  assert.deepEqual(names(late, 4096), ['Root Entry', 'EncryptionInfo', 'EncryptedPackage']);
  // Version 4: 4096-byte sectors, the header padded to one.
  const v4 = Buffer.alloc(4096 * 4);
  encrypted.copy(v4, 0, 0, 512);
  v4.writeUInt16LE(4, 0x1a);
  v4.writeUInt16LE(12, 0x1e);
  encrypted.copy(v4, 4096, 512, 1024); // the FAT (sector 0): its entry for sector 1 says sector 2
  encrypted.copy(v4, 8192, 1024, 1536); // sector 1: the root entry
  encrypted.copy(v4, 12288, 1536, 2048); // sector 2: the streams
  assert.deepEqual(names(v4, 1000), ['Root Entry', 'EncryptionInfo', 'EncryptedPackage']);
  assert.deepEqual(names(randomBytes(4096), 100), []);
});

test('a streamed OLE2 file whose DIFAT lists a million FAT sectors keeps a few of their ids, not the million', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Version 4 (4096-byte sectors): sectors 0–1023 are DIFAT sectors chained in order, each
  // listing 1,023 FAT sectors: a million ids from a 4 MB upload, of which a 16 MiB FAT holds 4,096.
  const header = Buffer.alloc(4096);
  makeOle([]).copy(header, 0, 0, 512);
  header.writeUInt16LE(4, 0x1a);
  header.writeUInt16LE(12, 0x1e);
  for (let i = 0; i < 109; i++) header.writeUInt32LE(0xffffffff, 0x4c + i * 4);
  header.writeUInt32LE(0, 0x44);
  const difat = (n: number): Buffer => {
    const sector = Buffer.alloc(4096);
    for (let i = 0; i < 1023; i++) sector.writeUInt32LE(10_000_000 + n * 1023 + i, i * 4);
    sector.writeUInt32LE(n + 1, 4092);
    return sector;
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  const scan = new OleDirectoryScan();
  scan.push(header);
  for (let n = 0; n < 1024; n++) scan.push(difat(n));
  gc();
  const held = process.memoryUsage().heapUsed - before;
  assert.ok(held < 8 * 1024 * 1024, `${(held / 1024 / 1024).toFixed(1)} MiB held while the upload goes on`);
  assert.deepEqual(scan.names(), []);
});

test('a streamed OLE2 file of more than 7 MB whose DIFAT comes after the FAT sectors it lists is read as on disk, not from the directories of the files it holds', async () => {
  // A legacy .doc (512-byte sectors) holding a password-protected document among its data, as an
  // e-mail holds an attachment. Its FAT is 111 sectors: 0–108 listed in the header, 14,000 and
  // 14,001 in the DIFAT sector written after them (14,003). Its directory is sector 109, then
  // 14,002, whose next sector the FAT sector 14,001 says.
  const END = 0xfffffffe;
  const total = 14_004;
  const ole = Buffer.alloc((total + 1) * 512);
  const at = (id: number): number => (id + 1) * 512;
  const encrypted = makeOle(['EncryptionInfo', 'EncryptedPackage']);
  ole.set(encrypted.subarray(0, 512), 0); // the header, rewritten below
  for (let i = 0; i < 109; i++) ole.writeUInt32LE(i, 0x4c + i * 4);
  ole.writeUInt32LE(111, 0x2c); // FAT sectors
  ole.writeUInt32LE(109, 0x30); // the directory's first sector
  ole.writeUInt32LE(14_003, 0x44); // the DIFAT's first sector
  ole.writeUInt32LE(1, 0x48); // DIFAT sectors
  const next = new Map<number, number>();
  for (let id = 0; id < 109; id++) next.set(id, 0xfffffffd);
  next.set(14_000, 0xfffffffd).set(14_001, 0xfffffffd).set(14_003, 0xfffffffc);
  next.set(109, 14_002).set(14_002, END);
  for (let id = 110; id < 13_999; id++) next.set(id, id + 1);
  next.set(13_999, END);
  for (let id = 0; id < 111 * 128; id++) {
    const fatSector = id < 109 * 128 ? Math.floor(id / 128) : 14_000 + Math.floor(id / 128) - 109;
    ole.writeUInt32LE(next.get(id) ?? 0xffffffff, at(fatSector) + (id % 128) * 4);
  }
  const difat = Buffer.alloc(512, 0xff);
  difat.writeUInt32LE(14_000, 0);
  difat.writeUInt32LE(14_001, 4);
  difat.writeUInt32LE(END, 508);
  ole.set(difat, at(14_003));
  // Its directory: the root and a stream in sector 109, WordDocument in 14,002.
  const own = makeOle(['1Table', 'WordDocument']);
  ole.set(own.subarray(1024, 1536), at(109));
  ole.set(own.subarray(1536, 2048), at(14_002));
  ole.set(encrypted.subarray(512), at(200)); // the document held: its FAT and directory
  await assertLegacyDocAsOnDisk(ole);
});

test('a streamed OLE2 file whose directory has a sector of unused entries only is read as on disk, not from the directories of the files it holds', async () => {
  // A legacy .doc: its directory is sectors 1 (the root), 2 (entries all removed, zeros) and 3
  // (its streams); sectors 4–6 are a password-protected document it holds, its FAT and directory.
  const END = 0xfffffffe;
  const own = makeOle(['1Table', 'WordDocument']);
  const held = makeOle(['EncryptionInfo', 'EncryptedPackage']);
  const fat = Buffer.alloc(512, 0xff);
  for (const [id, next] of [[0, 0xfffffffd], [1, 2], [2, 3], [3, END], [4, 5], [5, 6], [6, END]] as const) fat.writeUInt32LE(next, id * 4);
  const ole = Buffer.concat([own.subarray(0, 512), fat, own.subarray(1024, 1536), Buffer.alloc(512), own.subarray(1536, 2048), held.subarray(512)]);
  await assertLegacyDocAsOnDisk(ole);
});

/** `ole`, a legacy .doc, is refused streamed as it is from a path: unsupported_type naming it. */
async function assertLegacyDocAsOnDisk(ole: Buffer): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-ole-'));
  try {
    await writeFile(join(dir, 'memo.doc'), ole);
    const onDisk = await oleRefusal(join(dir, 'memo.doc'), label('memo.doc'));
    assert.equal(onDisk?.code, 'unsupported_type');
    const streamed = await sniffStream(Readable.from([ole]), 'memo.doc', 'drain').then(() => undefined, (error: unknown) => error as { code: string; message: string });
    assert.equal(streamed?.code, 'unsupported_type');
    assert.equal(streamed?.message, onDisk?.message);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
