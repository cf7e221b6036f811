import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { KeyStore } from '../../src/store/port.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { sha } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: KeyStore };

const randomHash = (): string => sha(Math.floor(Math.random() * 1e12));

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'API keys: create, find by hash, list by tenant, revoke',
    async run({ store }) {
      const id = randomUUID();
      const hash = randomHash();
      const tenant = `t-${randomUUID()}`;
      const created = await store.createApiKey({ id, tenantId: tenant, name: 'ci', role: 'user', hash }, 1_000);
      assert.deepEqual(created, { id, tenantId: tenant, name: 'ci', role: 'user', hash, createdAt: 1_000, revokedAt: null });
      assert.deepEqual(await store.findApiKeyByHash(hash), created);
      assert.equal(await store.findApiKeyByHash(sha(7)), undefined);
      assert.deepEqual(await store.getApiKey(id), created);
      assert.equal(await store.getApiKey('missing'), undefined);
      const admin = await store.createApiKey({ id: randomUUID(), tenantId: tenant, name: 'ops', role: 'admin', hash: sha(Math.floor(Math.random() * 1e12) + 1e12) }, 2_000);
      assert.equal(admin.role, 'admin');
      assert.deepEqual((await store.listApiKeys(tenant)).map((k) => k.id), [id, admin.id]);
      assert.ok((await store.listApiKeys()).some((k) => k.id === admin.id));
      assert.deepEqual(await store.listApiKeys(`none-${randomUUID()}`), []);
      const revoked = await store.revokeApiKey(id, 4_000);
      assert.equal(revoked.revokedAt, 4_000);
      assert.equal((await store.revokeApiKey(id, 5_000)).revokedAt, 4_000, 'the first revocation time stays');
      assert.equal((await store.findApiKeyByHash(hash))?.revokedAt, 4_000);
      assert.equal((await store.getApiKey(id))?.revokedAt, 4_000);
      await rejectsWithCode(store.revokeApiKey('missing', 1), 'not_found');
    },
  },
  {
    name: 'createApiKey with an id or hash in use is validation_failed and replaces nothing',
    async run({ store }) {
      const first = await store.createApiKey({ id: randomUUID(), tenantId: 't1', name: 'ci', role: 'user', hash: randomHash() }, 1_000);
      await rejectsWithCode(store.createApiKey({ ...first, name: 'dup id', hash: randomHash() }, 2_000), 'validation_failed');
      await rejectsWithCode(store.createApiKey({ ...first, id: randomUUID(), name: 'dup hash', role: 'admin' }, 3_000), 'validation_failed');
      assert.deepEqual(await store.findApiKeyByHash(first.hash), first);
      assert.deepEqual((await store.listApiKeys('t1')).map((k) => k.id), [first.id]);
    },
  },
];

/** Registers the API key port's contract (src/store/key-store.ts) against one adapter. */
export function keyStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/keys', name, make, cases, options);
}
