// Retention of stored documents, in both modes (a folder of blobs; PostgreSQL and S3): a document
// no job uses goes after its tenant's days, with its blob unless another tenant's document has
// the same content; documents a job uses stay until the job goes; each removal is audited and
// counted. DELETE of a document the same way, refused while a job uses it.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf } from '../support/make-pdf.ts';
import { withModeReam, type Mode } from '../support/modes.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const DAY = 24 * 3600_000;
const unavailable = (await postgresUnavailable()) ?? (await redisUnavailable());

const retention = { documentsDays: 30, documentTenants: { brief: 1, archive: null }, jobsDays: 30 };

/** A ream of the mode (test/support/modes.ts), handed to `use`. */
function withReam(mode: Mode, use: (ream: Ream) => Promise<void>): Promise<void> {
  return withModeReam(mode, { retention }, ({ ream }) => use(ream));
}

for (const mode of ['embedded', 'distributed'] as const) {
  test(`retention removes unused documents and their blobs per tenant, keeps used and shared ones (${mode})`, async (t) => {
    if (mode === 'distributed' && !requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
    await withReam(mode, async (ream) => {
      const { blobs } = adaptersOf(ream);
      // One PDF per text: makePdf stamps the time of making, so two makings may differ in content.
      const pdfs = new Map<string, Uint8Array>();
      const store = async (tenantId: string, text: string) => {
        const bytes = pdfs.get(text) ?? await makePdf({ pages: [text] });
        pdfs.set(text, bytes);
        return ream.storeDocument(Readable.from([bytes]), `${text}.pdf`, { tenantId });
      };
      const briefOnly = await store('brief', 'brief only');
      const briefShared = await store('brief', 'shared content');
      const standardShared = await store('standard', 'shared content');
      const archived = await store('archive', 'archived');
      const used = await store('brief', 'used by a job');
      const { job } = await ream.submitJob({ tenantId: 'brief', files: [{ documentId: used.id }] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      assert.ok(await blobs.stat(briefOnly.sha256), 'stored');
      const now = Date.now();

      assert.deepEqual(await ream.sweepRetention(now), { jobs: 0, documents: 0, blobs: 0, bytes: 0, uploads: 0, uploadBytes: 0 });
      const sweep = await ream.sweepRetention(now + 2 * DAY);
      assert.deepEqual(sweep, { jobs: 0, documents: 2, blobs: 1, bytes: briefOnly.size + briefShared.size, uploads: 0, uploadBytes: 0 }, 'brief keeps unused documents a day');
      assert.equal(await ream.getDocument(briefOnly.id), undefined);
      assert.equal(await blobs.stat(briefOnly.sha256), undefined, 'its blob went');
      assert.equal(await ream.getDocument(briefShared.id), undefined);
      assert.ok(await blobs.stat(standardShared.sha256), 'the same content of another tenant keeps its blob');
      assert.ok(await ream.getDocument(used.id), 'a job uses it');

      const later = await ream.sweepRetention(now + 31 * DAY);
      assert.deepEqual([later.jobs, later.documents, later.blobs], [1, 2, 2], 'the job goes, then its document; standard\'s 30 days are over');
      assert.equal(await blobs.stat(standardShared.sha256), undefined);
      assert.equal(await blobs.stat(used.sha256), undefined);
      assert.ok(await ream.getDocument(archived.id), 'archive keeps documents forever');

      const audit = await ream.listAudit({ action: 'retention.delete', limit: 20 });
      const documents = audit.filter((e) => (e.details as { kind?: string }).kind === 'document');
      assert.deepEqual(documents.map((e) => [e.tenantId, e.target]).sort(), [['brief', briefOnly.id], ['brief', briefShared.id], ['brief', used.id], ['standard', standardShared.id]].sort());
      assert.ok(documents.every((e) => e.subject === 'retention' && typeof (e.details as { blobDeleted?: unknown }).blobDeleted === 'boolean'));
    });
  });

  test(`deleteDocument: another tenant's is not_found, else gone with its blob and search entries (${mode})`, async (t) => {
    if (mode === 'distributed' && !requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
    await withReam(mode, async (ream) => {
      const { blobs } = adaptersOf(ream);
      const doc = await ream.storeDocument(Readable.from([await makePdf({ pages: ['mine'] })]), 'mine.pdf', { tenantId: 'a' });
      await rejectsWithCode(ream.deleteDocument(doc.id, 'b'), 'not_found');
      const { job } = await ream.submitJob({ tenantId: 'a', files: [{ documentId: doc.id }] });
      await ream.wait(job.id);
      await ream.deleteJob(job.id);
      assert.deepEqual(await ream.deleteDocument(doc.id, 'a'), { document: doc, blobDeleted: true });
      assert.equal(await blobs.stat(doc.sha256), undefined);
      assert.deepEqual(await ream.search('mine', { tenantId: 'a' }), [], 'its search entries went too');
      await rejectsWithCode(ream.deleteDocument(doc.id, 'a'), 'not_found');
    });
  });
}
