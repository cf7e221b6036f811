import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NewCreditEntry, Store } from '../../src/store/port.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { newJob, sha } from './store-fixtures.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { store: Store };

let clock = 1_700_000_000_000;

/** Each entry a millisecond after the last: ids sort by time, and entries of one millisecond in no set order. */
function credit(tenantId: string, kind: NewCreditEntry['kind'], amount: number, key = `${kind}:${randomUUID()}`, jobId: string | null = null): NewCreditEntry {
  return { tenantId, kind, amount, key, jobId, reason: kind === 'grant' ? 'trial' : null, at: clock++ };
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'tenants: entries move the balance, oldest first, one tenant never sees another',
    async run({ store }) {
      const [a, b] = [randomUUID(), randomUUID()];
      assert.equal(await store.creditBalance(a), 0, 'no entry: 0');
      const grant = await store.appendCredit({ ...credit(a, 'grant', 100), details: { by: 'admin' } });
      assert.deepEqual({ applied: grant.applied, balance: grant.balance }, { applied: true, balance: 100 });
      assert.deepEqual(grant.entry.details, { by: 'admin' });
      const job = randomUUID();
      await store.appendCredit(credit(a, 'reserve', -30, `job:${job}:reserve`, job));
      await store.appendCredit(credit(b, 'grant', 7));
      assert.equal(await store.creditBalance(a), 70);
      assert.equal(await store.creditBalance(b), 7);
      const listed = await store.listCredits({ tenantId: a, limit: 10 });
      assert.deepEqual(listed.map((e) => [e.kind, e.amount, e.tenantId]), [['grant', 100, a], ['reserve', -30, a]]);
      assert.deepEqual((await store.listCredits({ jobId: job, limit: 10 })).map((e) => e.key), [`job:${job}:reserve`]);
      const page2 = await store.listCredits({ tenantId: a, limit: 10, afterId: listed[0]?.id ?? '' });
      assert.deepEqual(page2.map((e) => e.kind), ['reserve']);
      assert.equal((await store.findCredit(`job:${job}:reserve`))?.amount, -30);
      const tenants = await store.listTenants({ limit: 100_000 });
      assert.equal(tenants.find((t) => t.tenantId === b)?.balance, 7);
      // A balance past 2^53 would be no exact number: the entry is refused, the balance unchanged.
      const big = Number.MAX_SAFE_INTEGER;
      await rejectsWithCode(store.appendCredit(credit(b, 'grant', big, 'grant:too-big')), 'validation_failed');
      assert.equal(await store.creditBalance(b), 7);
      assert.equal(await store.findCredit('grant:too-big'), undefined, 'no entry written');
    },
  },
  {
    name: 'tenants: a key is written once, even by concurrent appends; a repeat changes nothing',
    async run({ store }) {
      const tenant = randomUUID();
      await store.appendCredit(credit(tenant, 'grant', 50));
      const key = `job:${randomUUID()}:settle`;
      const results = await Promise.all(Array.from({ length: 8 }, () => store.appendCredit(credit(tenant, 'finalize', 5, key))));
      assert.equal(results.filter((r) => r.applied).length, 1, 'one append applies');
      assert.equal(new Set(results.map((r) => r.entry.id)).size, 1, 'every caller is answered the one entry');
      assert.equal(await store.creditBalance(tenant), 55);
      assert.equal((await store.listCredits({ tenantId: tenant, limit: 100 })).length, 2);
    },
  },
  {
    name: 'tenants: a spend with requireFunds is refused past the balance, with the numbers, and writes nothing',
    async run({ store }) {
      const tenant = randomUUID();
      await store.appendCredit(credit(tenant, 'grant', 10));
      const error = await rejectsWithCode(store.appendCredit(credit(tenant, 'reserve', -11), { requireFunds: true }), 'insufficient_credits');
      assert.deepEqual(error.details, { balance: 10, needed: 11 });
      assert.equal(await store.creditBalance(tenant), 10);
      assert.equal((await store.listCredits({ tenantId: tenant, limit: 10 })).length, 1);
      // Racing spends: of ten reserving 3 each from 10, three fit.
      const spends = await Promise.allSettled(Array.from({ length: 10 }, () => store.appendCredit(credit(tenant, 'reserve', -3), { requireFunds: true })));
      assert.equal(spends.filter((s) => s.status === 'fulfilled').length, 3);
      assert.equal(await store.creditBalance(tenant), 1);
      // Without requireFunds (a settlement) the balance may go below zero.
      assert.equal((await store.appendCredit(credit(tenant, 'finalize', -4))).balance, -3);
    },
  },
  {
    name: 'tenants: quotas are set, replaced and listed; usage counts pages, unfinished jobs and stored bytes',
    async run({ store }) {
      const tenant = randomUUID();
      assert.deepEqual(await store.getQuotas(tenant), {});
      await store.setQuotas(tenant, { pagesPerDay: 100, concurrentJobs: 2 });
      await store.setQuotas(tenant, { concurrentJobs: 3, storageBytes: 1000 });
      assert.deepEqual(await store.getQuotas(tenant), { concurrentJobs: 3, storageBytes: 1000 });
      assert.deepEqual((await store.listTenants({ limit: 100_000 })).find((t) => t.tenantId === tenant), { tenantId: tenant, balance: 0, quotas: { concurrentJobs: 3, storageBytes: 1000 } });

      assert.deepEqual(await store.tenantUsage(tenant, 0), { pagesSince: 0, unfinishedJobs: 0, storageBytes: 0 });
      const old = await store.createJob(newJob({ tenantId: tenant }), 1_000);
      const recent = await store.createJob(newJob({ tenantId: tenant }), 5_000);
      const jobsOnly = randomUUID();
      await store.createJob(newJob({ tenantId: jobsOnly }), 5_000);
      assert.deepEqual((await store.listTenants({ limit: 100_000 })).find((t) => t.tenantId === jobsOnly), { tenantId: jobsOnly, balance: 0, quotas: {} }, 'a tenant known only by its jobs is listed');
      const docs = [];
      for (const [i, size] of [[1, 300], [2, 200]] as const) {
        docs.push(await store.putDocument({ id: randomUUID(), tenantId: tenant, sha256: sha(Math.floor(Math.random() * 1e12) + i), name: 'd.pdf', size, mediaType: 'application/pdf' }, 1_000));
      }
      const [d1, d2] = docs.map((d) => d.id) as [string, string];
      await store.addJobDocuments([{ jobId: old.id, documentId: d1, ordinal: 0, source: 'a' }, { jobId: recent.id, documentId: d1, ordinal: 0, source: 'a' }, { jobId: recent.id, documentId: d2, ordinal: 1, source: 'b' }]);
      await store.updateJobDocument(old.id, d1, { pagesTotal: 7 });
      await store.updateJobDocument(recent.id, d1, { pagesTotal: 7 });
      await store.updateJobDocument(recent.id, d2, { pagesTotal: 4 });
      await store.updateJob(old.id, { status: 'succeeded', finishedAt: 6_000 });
      assert.deepEqual(await store.tenantUsage(tenant, 5_000), { pagesSince: 11, unfinishedJobs: 1, storageBytes: 500 });
      assert.deepEqual(await store.tenantUsage(tenant, 0), { pagesSince: 18, unfinishedJobs: 1, storageBytes: 500 });
      // Report files count too, each file once however many jobs made it; another tenant's do not.
      const [report, shared] = [sha(Math.floor(Math.random() * 1e12)), sha(Math.floor(Math.random() * 1e12))];
      await store.putJobArtifacts(old.id, [{ sha256: report, size: 40 }, { sha256: shared, size: 7 }]);
      await store.putJobArtifacts(recent.id, [{ sha256: shared, size: 7 }]);
      const other = await store.createJob(newJob({ tenantId: jobsOnly }), 5_000);
      await store.putJobArtifacts(other.id, [{ sha256: sha(Math.floor(Math.random() * 1e12)), size: 1_000 }]);
      assert.equal((await store.tenantUsage(tenant, 0)).storageBytes, 547);
      // A deleted job's files no longer count.
      await store.deleteJob(old.id);
      assert.equal((await store.tenantUsage(tenant, 0)).storageBytes, 507);
    },
  },
  {
    name: 'tenants: stored bytes stay exact through every change of documents and report files, concurrent ones too',
    async run({ store }) {
      const tenant = randomUUID();
      const random = (): string => sha(Math.floor(Math.random() * 1e12));
      const stored = (): Promise<number> => store.tenantStoredBytes(tenant);
      const [first, second] = [await store.createJob(newJob({ tenantId: tenant }), 1_000), await store.createJob(newJob({ tenantId: tenant }), 1_000)];
      const kept = await store.putDocument({ id: randomUUID(), tenantId: tenant, sha256: random(), name: 'a.pdf', size: 300, mediaType: 'application/pdf' }, 1_000);
      const loose = await store.putDocument({ id: randomUUID(), tenantId: tenant, sha256: random(), name: 'b.pdf', size: 20, mediaType: 'application/pdf' }, 1_000);
      assert.equal((await store.putDocument({ ...kept, id: randomUUID(), name: 'again.pdf' }, 2_000)).id, kept.id, 'the same content again');
      assert.equal(await stored(), 320, 'each content once');
      await store.addJobDocuments([{ jobId: first.id, documentId: kept.id, ordinal: 0, source: 'a' }]);
      await store.updateJob(first.id, { status: 'succeeded', finishedAt: 3_000 });
      assert.equal((await store.deleteDocument(kept.id, 4_000)).status, 'deleted');
      assert.equal((await store.deleteDocument(loose.id, 4_000)).status, 'deleted');
      assert.equal(await stored(), 0, 'deleted documents, marked or gone, no longer count');
      await store.putDocument({ ...kept, id: randomUUID() }, 5_000);
      assert.equal(await stored(), 300, 'a deleted content stored again counts again');

      // Report files: the same content in jobs stored at once counts once, and until its last job goes.
      const shared = random();
      await Promise.all([first, second, first, second].map((job, i) => store.putJobArtifacts(job.id, [{ sha256: shared, size: 50 }, { sha256: random(), size: i + 1 }])));
      assert.equal(await stored(), 300 + 50 + 1 + 2 + 3 + 4);
      assert.equal(await stored(), (await store.tenantUsage(tenant, 0)).storageBytes);
      await Promise.all([store.deleteJob(first.id), store.putJobArtifacts(second.id, [{ sha256: shared, size: 50 }])]);
      assert.equal(await stored(), 300 + 50 + 2 + 4, 'the shared file stays counted while a job of the tenant holds it');
      await store.deleteJob(second.id);
      assert.equal(await stored(), 300);
    },
  },
  {
    name: 'tenants: listed a page at a time by id, each once, whether known by a balance, quotas or jobs only',
    async run({ store }) {
      const prefix = `page-${randomUUID()}-`;
      const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((letter) => `${prefix}${letter}`);
      const [a, b, c, d, e, f, g] = names as [string, string, string, string, string, string, string];
      for (const tenantId of [a, e]) await store.appendCredit(credit(tenantId, 'grant', 5));
      for (const tenantId of [b, e, g]) await store.setQuotas(tenantId, { concurrentJobs: 1 });
      for (const tenantId of [c, c, c, d, f, g]) await store.createJob(newJob({ tenantId }), 1_000);
      const listed: string[][] = [];
      let after = prefix;
      // At most 5 rounds: a list that ignores `after` repeats its first page and fails here.
      for (let round = 0; round < 5; round++) {
        const page = (await store.listTenants({ after, limit: 3 })).filter((t) => t.tenantId.startsWith(prefix));
        if (page.length === 0) break;
        listed.push(page.map((t) => t.tenantId));
        after = page.at(-1)?.tenantId ?? '';
      }
      assert.deepEqual(listed, [[a, b, c], [d, e, f], [g]]);
      const [page] = [await store.listTenants({ after: d, limit: 1 })];
      assert.deepEqual(page, [{ tenantId: e, balance: 5, quotas: { concurrentJobs: 1 } }]);
    },
  },
];

/** Registers the tenant port's contract (src/store/tenant-store.ts) against one adapter. */
export function tenantStoreConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('store/tenants', name, make, cases, options);
}
