import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { mediaTypeByName } from '../../src/formats/sniff.ts';
import { createReam, type JobFile, type Ream } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf } from '../support/make-pdf.ts';

const GIF = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1');

let dir: string;
let ream: Ream;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-submit-'));
  ream = await createReam({ dataDir: dir, threads: 1 });
});
after(async () => {
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/** Files that fail the test if anything reads them. */
function untouchable(): AsyncIterable<JobFile> {
  return {
    [Symbol.asyncIterator]: () => {
      throw new Error('these files must not be read');
    },
  };
}

describe('submitJob: the one job intake', () => {
  test('streams are sniffed: the content decides the media type, not the name', async () => {
    const pdf = await makePdf({ pages: ['hello'] });
    const { job, repeat } = await ream.submitJob({ files: [{ stream: Readable.from([pdf]), name: 'report.txt' }] });
    assert.equal(repeat, false);
    const [entry] = await ream.jobDocuments(job.id);
    assert.ok(entry);
    assert.equal((await ream.getDocument(entry.documentId))?.mediaType, 'application/pdf');
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
  });

  test('a file the sniffing refuses is kept and fails at inspection with its code, as one read from a path', async () => {
    const { job } = await ream.submitJob({ files: [{ stream: Readable.from([GIF]), name: 'scan.pdf' }, { stream: Readable.from([Buffer.from('some text\n')]), name: 'a.txt' }] });
    assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
    const codes = new Map<string, string | undefined>();
    for await (const output of ream.results(job.id)) codes.set(output.source, output.error?.code);
    assert.equal(codes.get('scan.pdf'), 'unsupported_type');
    assert.equal(codes.get('a.txt'), undefined);
  });

  test('a repeat of an idempotency key answers the first job and reads none of its files', async () => {
    const first = await ream.submitJob({ key: 'k-1', files: [{ stream: Readable.from([Buffer.from('once\n')]), name: 'a.txt' }] });
    const again = await ream.submitJob({ key: 'k-1', files: untouchable() });
    assert.equal(again.repeat, true);
    assert.equal(again.job.id, first.job.id);
    assert.equal((await ream.jobDocuments(first.job.id)).length, 1);
  });

  test('bad fields are refused before any file is read', async () => {
    await rejectsWithCode(ream.submitJob({ pipeline: 'nope', files: untouchable() }), 'validation_failed');
  });

  test('another tenant\'s document and an unknown upload are not_found, and no job is made', async () => {
    const doc = await ream.storeDocument(Readable.from([Buffer.from('mine\n')]), 'mine.txt', { tenantId: 'a' });
    const before = (await ream.listJobs({ tenantId: 'b', limit: 500 })).items.length;
    await rejectsWithCode(ream.submitJob({ tenantId: 'b', files: [{ documentId: doc.id }] }), 'not_found');
    await rejectsWithCode(ream.submitJob({ tenantId: 'b', files: [{ uploadId: 'f'.repeat(32) }] }), 'not_found');
    assert.equal((await ream.listJobs({ tenantId: 'b', limit: 500 })).items.length, before);
  });

  test('a missing file or a directory is a coded rejection, from submit, addFile and addStream alike, never a crash', async () => {
    const missing = join(dir, 'no-such-file.pdf');
    await rejectsWithCode(ream.submitJob({ files: [{ path: missing }] }), 'not_found');
    await rejectsWithCode(ream.submitJob({ files: [{ path: dir }] }), 'validation_failed');
    const job = await ream.createJob({});
    // The stream of a file that does not exist fails while the job is being checked: before the
    // fix, its 'error' event had no listener yet and ended the process.
    await rejectsWithCode(ream.addFile(job.id, { path: missing }), 'not_found');
    await rejectsWithCode(ream.addFile(job.id, { path: dir }), 'validation_failed');
    await rejectsWithCode(ream.addStream(job.id, createReadStream(missing), 'x.pdf'), 'not_found');
    const good = await ream.addStream(job.id, Readable.from([Buffer.from('still fine\n')]), 'fine.txt');
    assert.equal((await ream.wait(job.id)).status, 'succeeded', 'the failures left the job and its other file alone');
    assert.equal((await ream.jobDocument(job.id, good.documentId))?.status, 'succeeded');
  });

  test('a job needs at least one file', async () => {
    await rejectsWithCode(ream.submitJob({ files: [] }), 'validation_failed');
  });

  test('one extension map: stored documents and readers agree', () => {
    assert.equal(mediaTypeByName('notes.TEXT'), 'text/plain');
    assert.equal(mediaTypeByName('a.markdown'), 'text/markdown');
    assert.equal(mediaTypeByName('x.pdf'), 'application/pdf');
    assert.equal(mediaTypeByName('x.bin'), 'application/octet-stream');
  });
});
