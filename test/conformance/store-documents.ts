import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DocumentStore } from '../../src/store/port.ts';
import { sha } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: DocumentStore };

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
];

/** Registers the document port's contract (src/store/document-store.ts) against one adapter. */
export function documentStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/documents', name, make, cases, options);
}
