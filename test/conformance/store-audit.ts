import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditStore } from '../../src/store/port.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: AuditStore };

function entry(tenantId: string, overrides: Partial<Omit<AuditEntry, 'id'>> = {}): Omit<AuditEntry, 'id'> {
  return { at: 1_700_000_000_000, tenantId, subject: 'key_1', role: 'user', ip: '127.0.0.1', action: 'job.create', target: 'job_1', status: 202, ...overrides };
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'audit: entries come back as appended, oldest first, with their details',
    async run({ store }) {
      const tenant = randomUUID();
      const first = await store.appendAudit(entry(tenant, { details: { pipeline: 'extract', files: 2 } }));
      const second = await store.appendAudit(entry(tenant, { at: 1_700_000_000_000, action: 'job.cancel', ip: null, target: null, status: 200 }));
      const third = await store.appendAudit(entry(tenant, { at: 1_700_000_001_000, action: 'key.revoke', subject: 'cli', role: 'admin', status: 0 }));
      const listed = await store.listAudit({ tenantId: tenant, limit: 10 });
      assert.equal(listed.length, 3);
      assert.deepEqual(listed.map((e) => e.id).sort(), [first, second, third].sort());
      assert.deepEqual(listed.map((e) => e.at), [1_700_000_000_000, 1_700_000_000_000, 1_700_000_001_000], 'time order');
      assert.deepEqual(listed.find((e) => e.id === first), { id: first, ...entry(tenant, { details: { pipeline: 'extract', files: 2 } }) });
      assert.deepEqual(listed.find((e) => e.id === second), { id: second, ...entry(tenant, { action: 'job.cancel', ip: null, target: null, status: 200 }) });
    },
  },
  {
    name: 'audit: filters by tenant, action and time, and pages after an id',
    async run({ store }) {
      const [a, b] = [randomUUID(), randomUUID()];
      for (let i = 0; i < 5; i++) await store.appendAudit(entry(a, { at: 1_800_000_000_000 + i * 1000, action: i % 2 === 0 ? 'job.create' : 'job.delete' }));
      await store.appendAudit(entry(b, { at: 1_800_000_000_500 }));
      assert.equal((await store.listAudit({ tenantId: a, limit: 100 })).length, 5);
      assert.deepEqual((await store.listAudit({ tenantId: b, limit: 100 })).map((e) => e.tenantId), [b]);
      assert.equal((await store.listAudit({ tenantId: a, action: 'job.delete', limit: 100 })).length, 2);
      const window = await store.listAudit({ tenantId: a, since: 1_800_000_001_000, until: 1_800_000_003_000, limit: 100 });
      assert.deepEqual(window.map((e) => e.at), [1_800_000_001_000, 1_800_000_002_000], 'since inclusive, until exclusive');
      const page1 = await store.listAudit({ tenantId: a, limit: 2 });
      const page2 = await store.listAudit({ tenantId: a, limit: 2, afterId: page1.at(-1)?.id ?? '' });
      const page3 = await store.listAudit({ tenantId: a, limit: 2, afterId: page2.at(-1)?.id ?? '' });
      assert.deepEqual([...page1, ...page2, ...page3].map((e) => e.at), [0, 1, 2, 3, 4].map((i) => 1_800_000_000_000 + i * 1000));
      assert.ok((await store.listAudit({ limit: 1000 })).some((e) => e.tenantId === b), 'no tenant: every tenant');
    },
  },
];

/** Registers the audit port's contract (src/store/audit-store.ts) against one adapter. */
export function auditStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/audit', name, make, cases, options);
}
