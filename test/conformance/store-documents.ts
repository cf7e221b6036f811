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
    name: 'deleteDocument removes a document no job uses, says whether its content is still used, and keeps one a job uses',
    async run({ store }) {
      const content = freshSha();
      const [tenantA, tenantB] = [randomUUID(), randomUUID()];
      const a = await store.putDocument({ id: randomUUID(), tenantId: tenantA, sha256: content, name: 'a.pdf', size: 5, mediaType: 'application/pdf' }, 1);
      const b = await store.putDocument({ id: randomUUID(), tenantId: tenantB, sha256: content, name: 'b.pdf', size: 5, mediaType: 'application/pdf' }, 1);
      const job = await store.createJob(newJob({ tenantId: tenantB }), 1);
      await store.addJobDocuments([{ jobId: job.id, documentId: b.id, ordinal: 0, source: 'b.pdf' }]);

      assert.deepEqual(await store.deleteDocument(b.id), { status: 'in_use', jobIds: [job.id], unfinishedJobIds: [job.id] });
      await store.updateJob(job.id, { status: 'succeeded', finishedAt: 2 });
      assert.deepEqual(await store.deleteDocument(b.id), { status: 'in_use', jobIds: [job.id], unfinishedJobIds: [] }, 'a finished job still uses it');
      assert.deepEqual(await store.deleteDocument(a.id), { status: 'deleted', document: a, blobUnused: false }, 'tenant b\'s document has the same content');
      assert.equal(await store.getDocument(a.id), undefined);
      assert.deepEqual(await store.deleteDocument(a.id), { status: 'not_found' });
      await store.deleteJob(job.id);
      assert.deepEqual(await store.deleteDocument(b.id), { status: 'deleted', document: b, blobUnused: true });
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
    },
  },
];

/** Registers the document port's contract (src/store/document-store.ts) against one adapter. */
export function documentStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/documents', name, make, cases, options);
}
