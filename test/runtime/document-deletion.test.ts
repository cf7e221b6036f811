// Deleting a stored document, in both modes (SQLite and a folder; PostgreSQL, Redis and S3):
// refused with in_use only while an unfinished job uses it; otherwise the document goes, with
// its blob unless a live document of any tenant has the same content; a retry of a finished job
// whose document went fails that document with document_deleted; and a blob being deleted while
// the same content is stored again never leaves a document without its bytes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, withModeReam, type Mode } from '../support/modes.ts';
import { createReam, type Ream, type ReamOptions } from '../../src/runtime/create-ream.ts';

function withReam(mode: Mode, options: Pick<ReamOptions, 'work'>, use: (ream: Ream) => Promise<void>): Promise<void> {
  return withModeReam(mode, options, ({ ream }) => use(ream));
}

const pdf = async (text: string): Promise<Buffer> => Buffer.from(await makePdf({ pages: [text] }));

for (const mode of MODES) {
  test(`a document is in_use only while an unfinished job uses it; then it goes, its blob when no live document shares it (${mode})`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withReam(mode, { work: false }, async (ream) => {
      const { blobs } = adaptersOf(ream);
      const bytes = await pdf('shared between tenants');
      const [a, b] = [
        await ream.storeDocument(Readable.from([bytes]), 'a.pdf', { tenantId: 'a' }),
        await ream.storeDocument(Readable.from([bytes]), 'b.pdf', { tenantId: 'b' }),
      ];
      assert.equal(a.sha256, b.sha256);
      const { job } = await ream.submitJob({ tenantId: 'a', files: [{ documentId: a.id }] });
      const inUse = await rejectsWithCode(ream.deleteDocument(a.id, 'a'), 'in_use', /unfinished job/);
      assert.deepEqual(inUse.details, { unfinishedJobIds: [job.id] });
      await rejectsWithCode(ream.deleteDocument(a.id, 'b'), 'not_found', /no document/);

      await ream.cancel(job.id);
      const removed = await ream.deleteDocument(a.id, 'a');
      assert.deepEqual(removed, { document: { ...a, deletedAt: removed.document.deletedAt }, blobDeleted: false }, 'a finished job no longer holds it; b has the same content');
      assert.ok(removed.document.deletedAt !== undefined, 'marked deleted: the cancelled job still names it');
      assert.equal(await ream.getDocument(a.id), undefined);
      assert.ok(await blobs.stat(a.sha256), 'b\'s document keeps the blob');
      assert.equal((await ream.getJob(job.id))?.status, 'cancelled', 'the finished job stays readable');
      await rejectsWithCode(ream.deleteDocument(a.id, 'a'), 'not_found');
      assert.equal((await ream.tenants.tenant('a')).usage.storageBytes, 0, 'a deleted document counts no storage');

      assert.deepEqual(await ream.deleteDocument(b.id, 'b'), { document: b, blobDeleted: true }, 'the last live document of the content takes its blob');
      assert.equal(await blobs.stat(b.sha256), undefined);

      const again = await ream.storeDocument(Readable.from([bytes]), 'again.pdf', { tenantId: 'a' });
      assert.equal(again.id, a.id, 'the same content of the same tenant is the same document, live again');
      assert.equal(again.name, 'again.pdf');
      assert.ok(await blobs.stat(again.sha256), 'with its bytes back');
      await ream.deleteJob(job.id);
      assert.ok(await ream.getDocument(a.id), 'deleting the job leaves the live document');
    });
  });

  test(`a retry of a finished job whose document was deleted fails it with document_deleted (${mode})`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withReam(mode, {}, async (ream) => {
      const good = await ream.storeDocument(Readable.from([await pdf('good')]), 'good.pdf', { tenantId: 'a' });
      // Not a PDF, kept under a PDF's type: the job fails it, so a retry redoes it.
      const broken = await ream.storeDocument(Readable.from([Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 255, 254])]), 'broken.pdf', { tenantId: 'a', onRefuse: 'keep' });
      const { job } = await ream.submitJob({ tenantId: 'a', files: [{ documentId: good.id }, { documentId: broken.id }] });
      assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
      await ream.deleteDocument(broken.id, 'a');

      await ream.retry(job.id);
      const done = await ream.wait(job.id);
      assert.equal(done.status, 'partially_succeeded', 'the retry ends: it does not hang or crash');
      const failed = await ream.jobDocument(job.id, broken.id);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed.error?.code, 'document_deleted', JSON.stringify(failed));
      assert.equal((await ream.jobDocument(job.id, good.id))?.status, 'succeeded');
    });
  });

  test(`a blob being deleted while the same content is stored again is put back, never lost (${mode})`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withReam(mode, { work: false }, async (ream) => {
      const { blobs } = adaptersOf(ream);
      const bytes = await pdf('raced content');
      const doc = await ream.storeDocument(Readable.from([bytes]), 'first.pdf', { tenantId: 'a' });
      // The removal stops just before it deletes the blob (it holds the content's lock there).
      const deleteBlob = blobs.delete.bind(blobs);
      let reached!: () => void;
      let release!: () => void;
      const atDelete = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      blobs.delete = async (sha256) => {
        reached();
        await released;
        return deleteBlob(sha256);
      };
      const removal = ream.deleteDocument(doc.id, 'a');
      await atDelete;

      // Another tenant stores the same content: its blob exists right now, so without the lock
      // its document would be recorded at once and then lose the blob.
      const storing = ream.storeDocument(Readable.from([bytes]), 'second.pdf', { tenantId: 'b' });
      const first = await Promise.race([storing.then(() => 'stored'), sleep(1000).then(() => 'waiting')]);
      assert.equal(first, 'waiting', 'storing the content waits while its blob is being deleted');
      release();
      assert.deepEqual(await removal, { document: doc, blobDeleted: true });
      const second = await storing;
      assert.equal(second.sha256, doc.sha256);
      assert.equal((await blobs.stat(second.sha256))?.size, bytes.byteLength, 'the new document has its bytes');
      const read: Buffer[] = [];
      for await (const piece of await blobs.get(second.sha256)) read.push(piece as Buffer);
      assert.deepEqual(Buffer.concat(read), bytes);
    });
  });
}

test('a content lock a crashed process left is dropped when the data dir is opened again (embedded)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-content-lock-'));
  try {
    const bytes = await pdf('locked by the dead');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const dataDir = join(dir, 'data');
    await (await createReam({ dataDir, threads: 1, work: false })).close();
    // What a process killed while it stored this content leaves: its lock, with a lease of minutes.
    const database = new Database(join(dataDir, 'ream.db'));
    database.prepare('insert into content_locks (sha256, holder, expires_at) values (?, ?, ?)').run(sha256, 'dead', Date.now() + 3600_000);
    database.close();
    const ream = await createReam({ dataDir, threads: 1, work: false });
    try {
      const doc = await ream.storeDocument(Readable.from([bytes]), 'after.pdf', { tenantId: 'a' });
      assert.equal(doc.sha256, sha256, 'stored at once, not after the dead holder\'s lease');
    } finally {
      await ream.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
