// Report files of a tenant with a storage quota: only the check holds the tenant's lock; the room a
// store in flight needs is reserved, counted by every other check (of any process) until the bytes
// are recorded in the transaction that releases it, so stores go on at once and the quota stays exact.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { CreditKeeper } from '../../src/runtime/credits/credit-keeper.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import type { Store } from '../../src/store/port.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

const missing = await postgresUnavailable();

/** Two stores of one deployment: two pools on one PostgreSQL schema, or the one SQLite store of a data dir. */
async function openStores(flavor: 'postgres' | 'sqlite'): Promise<{ stores: [Store, Store]; close(): Promise<void> }> {
  if (flavor === 'postgres') {
    const { database, open, drop } = await freshSchema();
    return { stores: [await PostgresStore.open(database), await PostgresStore.open(await open())], close: drop };
  }
  const dir = await mkdtemp(join(tmpdir(), 'ream-reservations-'));
  const database = openSqliteDatabase(join(dir, 'ream.db'));
  const store = await SqliteStore.open(database);
  return {
    stores: [store, store],
    async close() {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const sha = (n: number): string => n.toString(16).padStart(64, '0');

for (const flavor of ['postgres', 'sqlite'] as const) {
  void test(`${flavor}: a report store in flight holds its room without holding the tenant's lock, and is counted once recorded`, { timeout: 60_000 }, async (t) => {
    if (flavor === 'postgres' && !requireOrSkip(t, missing === undefined, missing ?? '')) return;
    const opened = await openStores(flavor);
    const [first, second] = opened.stores;
    try {
      const tenantId = randomUUID();
      await first.setQuotas(tenantId, { storageBytes: 1_000 });
      const job = await first.createJob({ id: randomUUID(), tenantId, key: null, pipeline: 'rows', options: {}, priority: 0 }, 1);
      const [a, b] = [new CreditKeeper(first), new CreditKeeper(second)];

      // A store that has its room and is still uploading.
      let finish!: () => void;
      const uploading = new Promise<void>((resolve) => (finish = resolve));
      let started!: () => void;
      const inFlight = new Promise<void>((resolve) => (started = resolve));
      const slow = a.withReservedStorage(tenantId, 400, async (reservation) => {
        started();
        await uploading;
        await first.putJobArtifacts(job.id, [{ sha256: sha(1), size: 400 }], reservation);
      });
      await inFlight;

      // Another process's store of the same tenant goes on meanwhile (it waited for the first one's upload before).
      const quick = b.withReservedStorage(tenantId, 400, (reservation) => second.putJobArtifacts(job.id, [{ sha256: sha(2), size: 400 }], reservation));
      const waited = await Promise.race([quick.then(() => 'stored'), new Promise((resolve) => setTimeout(resolve, 10_000, 'waited'))]);
      assert.equal(waited, 'stored', 'a store of the tenant waits for no other store to upload');
      assert.equal(await second.tenantHeldBytes(tenantId, Date.now()), 800, 'the room in flight is counted with what is stored');
      assert.equal(await second.tenantStoredBytes(tenantId), 400, 'stored bytes alone do not count the room in flight');

      // The room in flight counts: 400 more would pass the quota once the first store is recorded.
      const refused = await rejectsWithCode(b.withReservedStorage(tenantId, 400, () => Promise.resolve()), 'quota_exceeded');
      assert.deepEqual(refused.details, { quota: 'storageBytes', limit: 1_000, used: 800, needed: 400 });

      // Recorded with its reservation: counted once, exactly.
      finish();
      await slow;
      assert.equal(await second.tenantHeldBytes(tenantId, Date.now()), 800);
      assert.equal(await second.tenantStoredBytes(tenantId), 800);

      // A store that fails gives its room back.
      await assert.rejects(a.withReservedStorage(tenantId, 200, () => Promise.reject(new Error('upload failed'))), /upload failed/);
      assert.equal(await second.tenantHeldBytes(tenantId, Date.now()), 800);
      await b.withReservedStorage(tenantId, 200, (reservation) => second.putJobArtifacts(job.id, [{ sha256: sha(3), size: 200 }], reservation));
      assert.equal(await first.tenantHeldBytes(tenantId, Date.now()), 1_000);

      // The room of a holder that died is held until its reservation expires, then no longer counted.
      const other = randomUUID();
      await first.reserveStorage({ tenantId: other, bytes: 300, expiresAt: Date.now() + 60_000 });
      await first.reserveStorage({ tenantId: other, bytes: 50, expiresAt: Date.now() - 1 });
      assert.equal(await second.tenantHeldBytes(other, Date.now()), 300);
      assert.equal(await second.tenantHeldBytes(other, Date.now() + 60_001), 0);
    } finally {
      await opened.close();
    }
  });
}

for (const flavor of ['postgres', 'sqlite'] as const) {
  void test(`${flavor}: a report stored again after its process died mid-upload is not refused for the room the dead store still holds`, { timeout: 60_000 }, async (t) => {
    if (flavor === 'postgres' && !requireOrSkip(t, missing === undefined, missing ?? '')) return;
    const opened = await openStores(flavor);
    const [first, second] = opened.stores;
    try {
      const tenantId = randomUUID();
      await first.setQuotas(tenantId, { storageBytes: 1_000 });
      const job = await first.createJob({ id: randomUUID(), tenantId, key: null, pipeline: 'rows', options: {}, priority: 0 }, 1);
      await first.putJobArtifacts(job.id, [{ sha256: sha(1), size: 500 }]);
      const key = `${job.id}:${sha(2)}`;

      // The store's process dies mid-upload (kill -9): its room stays reserved, nothing is released.
      let started!: () => void;
      const inFlight = new Promise<void>((resolve) => (started = resolve));
      void new CreditKeeper(first).withReservedStorage(tenantId, 400, async () => {
        started();
        await new Promise<never>(() => undefined);
      }, undefined, key);
      await inFlight;
      assert.equal(await second.tenantHeldBytes(tenantId, Date.now()), 900);

      // The task runs again in another process and stores the same file: it fits (500 + 400), and is counted once.
      const again = new CreditKeeper(second);
      await again.withReservedStorage(tenantId, 400, (reservation) => second.putJobArtifacts(job.id, [{ sha256: sha(2), size: 400 }], reservation), undefined, key);
      assert.equal(await second.tenantHeldBytes(tenantId, Date.now()), 900);
      assert.equal(await second.tenantStoredBytes(tenantId), 900);

      // Another file still finds no room.
      await rejectsWithCode(again.withReservedStorage(tenantId, 200, () => Promise.resolve(), undefined, `${job.id}:${sha(3)}`), 'quota_exceeded');
    } finally {
      await opened.close();
    }
  });
}

for (const flavor of ['postgres', 'sqlite'] as const) {
  void test(`${flavor}: a store that lasts longer than the reservation's lease keeps its room to the end`, { timeout: 60_000 }, async (t) => {
    if (flavor === 'postgres' && !requireOrSkip(t, missing === undefined, missing ?? '')) return;
    const opened = await openStores(flavor);
    const [first, second] = opened.stores;
    try {
      const tenantId = randomUUID();
      await first.setQuotas(tenantId, { storageBytes: 1_000 });
      const job = await first.createJob({ id: randomUUID(), tenantId, key: null, pipeline: 'rows', options: {}, priority: 0 }, 1);
      const leaseMs = 1_500;
      let finish!: () => void;
      const uploading = new Promise<void>((resolve) => (finish = resolve));
      let started!: () => void;
      const inFlight = new Promise<void>((resolve) => (started = resolve));
      const slow = new CreditKeeper(first, {}, { reservationMs: leaseMs }).withReservedStorage(tenantId, 800, async (reservation) => {
        started();
        await uploading;
        await first.putJobArtifacts(job.id, [{ sha256: sha(1), size: 800 }], reservation);
      });
      await inFlight;
      // Three leases later the store is still uploading: its room is still counted, and another store finds none.
      await new Promise((resolve) => setTimeout(resolve, 3 * leaseMs));
      assert.equal(await second.tenantHeldBytes(tenantId, Date.now()), 800);
      await rejectsWithCode(new CreditKeeper(second).withReservedStorage(tenantId, 400, () => Promise.resolve()), 'quota_exceeded');
      finish();
      await slow;
      assert.equal(await second.tenantHeldBytes(tenantId, Date.now()), 800);
      assert.equal(await second.tenantStoredBytes(tenantId), 800);
    } finally {
      await opened.close();
    }
  });
}

void test('embedded: the room a killed process reserved is free again when its data dir is opened next', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-reservations-'));
  try {
    const dataDir = join(dir, 'data');
    const first = await createReam({ dataDir, threads: 1 });
    await first.tenants.setQuotas('t', { storageBytes: 1_000 });
    await first.close();
    // What a process killed -9 mid-upload leaves: its reservation, for ten more minutes.
    const database = new DatabaseSync(join(dataDir, 'ream.db'));
    database.prepare('insert into storage_reservations (id, tenant_id, bytes, expires_at) values (?, ?, ?, ?)').run('rsv_dead', 't', 900, Date.now() + 600_000);
    database.close();

    const ream = await createReam({ dataDir, threads: 1 });
    try {
      const file = join(dir, 'a.txt');
      await writeFile(file, 'x'.repeat(300));
      const job = await ream.submit({ tenantId: 't', files: [file] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
    } finally {
      await ream.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
