import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord, KeyStore } from '../../src/store/port.ts';
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
      assert.deepEqual((await store.listApiKeys({ tenantId: tenant, limit: 10 })).map((k) => k.id), [id, admin.id]);
      assert.ok((await store.listApiKeys({ limit: 10_000 })).some((k) => k.id === admin.id));
      assert.deepEqual(await store.listApiKeys({ tenantId: `none-${randomUUID()}`, limit: 10 }), []);
      const revoked = await store.revokeApiKey(id, 4_000);
      assert.equal(revoked.revokedAt, 4_000);
      assert.equal((await store.revokeApiKey(id, 5_000)).revokedAt, 4_000, 'the first revocation time stays');
      assert.equal((await store.findApiKeyByHash(hash))?.revokedAt, 4_000);
      assert.equal((await store.getApiKey(id))?.revokedAt, 4_000);
      await rejectsWithCode(store.revokeApiKey('missing', 1), 'not_found');
    },
  },
  {
    name: 'API keys are listed a page at a time, oldest first, ties by id, each once',
    async run({ store }) {
      const tenant = `t-${randomUUID()}`;
      const made: ApiKeyRecord[] = [];
      for (const [i, at] of [3_000, 1_000, 2_000, 2_000, 2_000].entries()) {
        made.push(await store.createApiKey({ id: `${tenant}-${String.fromCharCode(101 - i)}`, tenantId: tenant, name: `k${i}`, role: 'user', hash: randomHash() }, at));
      }
      const expected = made.toSorted((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((key) => key.id);
      const pages: string[][] = [];
      // At most 5 rounds: a list that ignores `after` repeats its first page and fails here.
      for (let page = await store.listApiKeys({ tenantId: tenant, limit: 2 }); page.length > 0 && pages.length < 5;) {
        pages.push(page.map((key) => key.id));
        const last = page.at(-1);
        page = last === undefined ? [] : await store.listApiKeys({ tenantId: tenant, after: last, limit: 2 });
      }
      assert.deepEqual(pages.map((page) => page.length), [2, 2, 1]);
      assert.deepEqual(pages.flat(), expected);
      const [newest, oldest] = made;
      assert.ok(newest && oldest);
      const everyTenant = await store.listApiKeys({ after: oldest, limit: 10_000 });
      assert.ok(!everyTenant.some((key) => key.id === oldest.id) && everyTenant.some((key) => key.id === newest.id), 'after a key: the ones made later');
    },
  },
  {
    name: 'createApiKey with an id or hash in use is validation_failed and replaces nothing',
    async run({ store }) {
      const first = await store.createApiKey({ id: randomUUID(), tenantId: 't1', name: 'ci', role: 'user', hash: randomHash() }, 1_000);
      await rejectsWithCode(store.createApiKey({ ...first, name: 'dup id', hash: randomHash() }, 2_000), 'validation_failed');
      await rejectsWithCode(store.createApiKey({ ...first, id: randomUUID(), name: 'dup hash', role: 'admin' }, 3_000), 'validation_failed');
      assert.deepEqual(await store.findApiKeyByHash(first.hash), first);
      assert.deepEqual((await store.listApiKeys({ tenantId: 't1', limit: 10 })).map((k) => k.id), [first.id]);
    },
  },
];

/** Registers the API key port's contract (src/store/key-store.ts) against one adapter. */
export function keyStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/keys', name, make, cases, options);
}
