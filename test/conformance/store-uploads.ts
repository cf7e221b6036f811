import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { UploadRecord, UploadStore } from '../../src/store/port.ts';
import { sha } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: UploadStore };

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'uploads: put replaces, get round-trips optional fields, failed ones expire by age',
    async run({ store }) {
      const stored: UploadRecord = {
        id: randomUUID().replaceAll('-', ''), tenantId: 't1', status: 'stored', name: 'scan.pdf', size: 1_234,
        createdAt: 1_000, documentId: randomUUID(), sha256: sha(9), mediaType: 'application/pdf',
      };
      const refused: UploadRecord = {
        id: randomUUID().replaceAll('-', ''), tenantId: 't1', status: 'failed', name: 'x.exe', size: 9, createdAt: 2_000,
        error: { type: 'about:blank', status: 415, code: 'unsupported_type', detail: 'not a document', extra: [1, null] },
      };
      const pending: UploadRecord = { id: randomUUID().replaceAll('-', ''), tenantId: 't2', status: 'failed', name: 'late.bin', size: 1, createdAt: 5_000 };
      for (const record of [stored, refused, pending]) await store.putUpload(record);
      assert.deepEqual(await store.getUpload(stored.id), stored);
      assert.deepEqual(await store.getUpload(refused.id), refused);
      assert.deepEqual(await store.getUpload(pending.id), pending, 'absent fields stay absent');
      assert.equal(await store.getUpload('missing'), undefined);
      const replaced = { ...refused, name: 'renamed.exe', error: 'plain text error' };
      await store.putUpload(replaced);
      assert.deepEqual(await store.getUpload(refused.id), replaced);
      assert.equal(await store.deleteFailedUploadsBefore(3_000), 1, 'only failed ones older than the cut-off');
      assert.equal(await store.getUpload(refused.id), undefined);
      assert.deepEqual(await store.getUpload(stored.id), stored, 'a stored upload never expires this way');
      assert.deepEqual(await store.getUpload(pending.id), pending);
      assert.equal(await store.deleteUpload(stored.id), true);
      assert.equal(await store.deleteUpload(stored.id), false);
      assert.equal(await store.getUpload(stored.id), undefined);
    },
  },
];

/** Registers the upload port's contract (src/store/upload-store.ts) against one adapter. */
export function uploadStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/uploads', name, make, cases, options);
}
