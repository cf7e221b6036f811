import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DocumentStore, JobDocumentStore, JobStore } from '../../src/store/port.ts';
import { newJob, sha } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: DocumentStore & Pick<JobStore, 'createJob' | 'updateJob' | 'deleteJob'> & Pick<JobDocumentStore, 'addJobDocuments'> };

/** A sha256 no other case uses, so cases sharing a database never share content. */
const freshSha = (): string => sha(Math.floor(Math.random() * 2 ** 48));

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'putDocument stores content once per tenant and sha256',
    async run({ store }) {
      const doc = { id: randomUUID(), tenantId: 't1', sha256: sha(1), name: 'a.pdf', size: 42, mediaType: 'application/pdf' };
      const first = await store.putDocument(doc, 7);
      assert.deepEqual(first, { ...doc, createdAt: 7 });
      const again = await store.putDocument({ ...doc, id: randomUUID(), name: 'b.pdf' }, 8);
      assert.deepEqual(again, first);
      const otherTenant = await store.putDocument({ ...doc, id: randomUUID(), tenantId: 't2' }, 9);
      assert.notEqual(otherTenant.id, first.id);
      assert.deepEqual(await store.getDocument(first.id), first);
      assert.equal(await store.getDocument('missing'), undefined);
    },
  },
  {
    name: 'concurrent puts of one content make one document',
    async run({ store }) {
      const content = { tenantId: 't1', sha256: sha(2), name: 'a.pdf', size: 1, mediaType: 'application/pdf' };
      const put = await Promise.all(Array.from({ length: 10 }, (_, i) => store.putDocument({ ...content, id: randomUUID() }, i)));
      assert.equal(new Set(put.map((doc) => doc.id)).size, 1);
    },
  },
  {
    name: 'deleteDocument refuses while an unfinished job uses it, marks one finished jobs name, removes one no job names, and says whether its content is still live',
    async run({ store }) {
      const content = freshSha();
      const [tenantA, tenantB] = [randomUUID(), randomUUID()];
      const a = await store.putDocument({ id: randomUUID(), tenantId: tenantA, sha256: content, name: 'a.pdf', size: 5, mediaType: 'application/pdf' }, 1);
      const b = await store.putDocument({ id: randomUUID(), tenantId: tenantB, sha256: content, name: 'b.pdf', size: 5, mediaType: 'application/pdf' }, 1);
      const job = await store.createJob(newJob({ tenantId: tenantB }), 1);
      await store.addJobDocuments([{ jobId: job.id, documentId: b.id, ordinal: 0, source: 'b.pdf' }]);

      assert.deepEqual(await store.deleteDocument(b.id, 2), { status: 'in_use', unfinishedJobIds: [job.id] });
      assert.deepEqual(await store.deleteDocument(a.id, 2), { status: 'deleted', document: a, blobUnused: false }, 'tenant b\'s document has the same content');
      assert.equal(await store.getDocument(a.id), undefined);
      assert.deepEqual(await store.deleteDocument(a.id, 2), { status: 'not_found' });

      await store.updateJob(job.id, { status: 'succeeded', finishedAt: 2 });
      assert.deepEqual(await store.deleteDocument(b.id, 3), { status: 'deleted', document: { ...b, deletedAt: 3 }, blobUnused: true }, 'only a finished job names it');
      assert.equal(await store.getDocument(b.id), undefined, 'deleted: invisible');
      assert.deepEqual(await store.getDocument(b.id, { deleted: true }), { ...b, deletedAt: 3 }, 'the finished job\'s records still name it');
      assert.deepEqual(await store.deleteDocument(b.id, 4), { status: 'not_found' });
      assert.equal(await store.purgeDeletedDocuments([b.id]), 0, 'a job still names it');
      await store.deleteJob(job.id);
      assert.equal(await store.purgeDeletedDocuments([b.id]), 0, 'its last job went: so did its row, with the job');
      assert.equal(await store.getDocument(b.id, { deleted: true }), undefined);
    },
  },
  {
    name: 'putDocument brings a deleted document of the same content back as new',
    async run({ store }) {
      const tenantId = randomUUID();
      const doc = await store.putDocument({ id: randomUUID(), tenantId, sha256: freshSha(), name: 'a.pdf', size: 5, mediaType: 'application/pdf' }, 1);
      const job = await store.createJob(newJob({ tenantId }), 1);
      await store.addJobDocuments([{ jobId: job.id, documentId: doc.id, ordinal: 0, source: 'a.pdf' }]);
      await store.updateJob(job.id, { status: 'succeeded', finishedAt: 2 });
      assert.equal((await store.deleteDocument(doc.id, 3)).status, 'deleted');
      const back = await store.putDocument({ ...doc, id: randomUUID(), name: 'again.pdf' }, 4);
      assert.deepEqual(back, { ...doc, name: 'again.pdf', createdAt: 4 }, 'same id (the finished job names it), live again');
      assert.deepEqual(await store.getDocument(doc.id), back);
    },
  },
  {
    name: 'withContentLock runs one holder of a content at a time, others meanwhile',
    async run({ store }) {
      const content = freshSha();
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const first = store.withContentLock(content, async () => {
        order.push('first in');
        entered();
        await held;
        order.push('first out');
      });
      await new Promise<void>((resolve) => (entered = resolve));
      const second = store.withContentLock(content, () => Promise.resolve(void order.push('second')));
      assert.equal(await store.withContentLock(freshSha(), () => Promise.resolve('other content')), 'other content', 'another content is not held up');
      release();
      await Promise.all([first, second]);
      assert.deepEqual(order, ['first in', 'first out', 'second']);
      await assert.rejects(store.withContentLock(content, () => Promise.reject(new Error('boom'))), /boom/);
      assert.equal(await store.withContentLock(content, () => Promise.resolve(1)), 1, 'a failed holder released the lock');
    },
  },
  {
    name: 'listUnusedDocumentsBefore lists old documents no job uses, by tenant or all but some',
    async run({ store }) {
      const [t1, t2] = [randomUUID(), randomUUID()];
      const put = (tenantId: string, at: number) =>
        store.putDocument({ id: randomUUID(), tenantId, sha256: freshSha(), name: 'd.pdf', size: 1, mediaType: 'application/pdf' }, at);
      const old = await put(t1, 10);
      const used = await put(t1, 11);
      await put(t1, 1_000);
      const other = await put(t2, 12);
      const job = await store.createJob(newJob({ tenantId: t1 }), 1);
      await store.addJobDocuments([{ jobId: job.id, documentId: used.id, ordinal: 0, source: 'd.pdf' }]);
      assert.deepEqual((await store.listUnusedDocumentsBefore({ before: 100, limit: 10, tenantId: t1 })).map((d) => d.id), [old.id]);
      const rest = await store.listUnusedDocumentsBefore({ before: 100, limit: 1000, exceptTenants: [t1] });
      assert.ok(rest.some((d) => d.id === other.id) && !rest.some((d) => d.tenantId === t1));
      // The same content stored again is answered with its record, and is as new as that storing.
      const again = await store.putDocument({ id: randomUUID(), tenantId: t1, sha256: old.sha256, name: 'again.pdf', size: 1, mediaType: 'application/pdf' }, 500);
      assert.deepEqual([again.id, again.createdAt], [old.id, 10], 'the first record, with when it was first stored');
      assert.deepEqual((await store.listUnusedDocumentsBefore({ before: 100, limit: 10, tenantId: t1 })).map((d) => d.id), [], 'not old any more');
      assert.deepEqual((await store.listUnusedDocumentsBefore({ before: 501, limit: 10, tenantId: t1 })).map((d) => d.id), [old.id]);
    },
  },
];

/** Registers the document port's contract (src/store/document-store.ts) against one adapter. */
export function documentStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/documents', name, make, cases, options);
}
