// Credits and quotas around jobs: reserved at submit, settled once when a job ends (under racing
// settlements from two stores, and after a process that stopped between the reservation and the
// end), quotas refused with their numbers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { CreditKeeper, creditKeys } from '../../src/runtime/credits/credit-keeper.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import type { JobRecord, Store } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { requireOrSkip } from '../support/env.ts';
import { makeEmail } from '../support/make-email.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { startFakeOpenAi } from '../support/openai-server.ts';
import type { Analyzer } from '../../src/analyzers/port.ts';
import { builtinPipelines } from '../../src/pipeline/builtin.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

const BY = { subject: 'cli', role: 'admin', ip: null, status: 0 };
const PRICES = { page: 2, ocrPage: 5 };
/** The system Chromium the PDF reports print with (Debian package chromium). */
const CHROMIUM = process.env.REAM_CHROMIUM_PATH ?? '/usr/bin/chromium';

async function withDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-credits-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('without prices nothing is reserved or charged; with prices a job reserves its estimate and is charged what it read', async () => {
  await withDir(async (dir) => {
    const pdf = join(dir, 'three.pdf');
    await writeFile(pdf, await makePdf({ pages: ['one', 'two', 'three'] }));
    const free = await createReam({ dataDir: join(dir, 'free'), threads: 1 });
    try {
      const job = await free.submit({ tenantId: 'a', files: [pdf] });
      assert.equal((await free.wait(job.id)).status, 'succeeded');
      assert.deepEqual(await free.tenants.listCredits({ limit: 10 }), [], 'credits off: no ledger');
    } finally {
      await free.close();
    }

    const ream = await createReam({ dataDir: join(dir, 'priced'), threads: 1, credits: { prices: PRICES } });
    try {
      const refused = await rejectsWithCode(ream.submit({ tenantId: 'a', files: [pdf] }), 'insufficient_credits');
      assert.deepEqual(refused.details, { balance: 0, needed: 2 }, 'a page per document at 2 credits');
      assert.equal((await ream.tenants.grantCredits({ tenantId: 'a', amount: 10, reason: 'trial', by: BY })).balance, 10);
      const job = await ream.submit({ tenantId: 'a', files: [pdf] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      const entries = await ream.tenants.listCredits({ jobId: job.id, limit: 10 });
      const [document] = await ream.jobDocuments(job.id);
      assert.deepEqual(entries.map((e) => [e.kind, e.amount, e.key]), [
        ['reserve', -2, `job:${job.id}:reserve`],
        ['reserve', -4, `job:${job.id}:topup:${document?.documentId}`],
        ['finalize', 6 - 6, `job:${job.id}:settle`],
      ], 'a page reserved at submit, the two more it has once inspected; three pages read at 2: 6 charged');
      assert.equal((entries[2]?.details as { pages: number }).pages, 3);
      assert.equal((await ream.tenants.tenant('a')).balance, 4);
      assert.equal((await ream.tenants.tenant('b')).balance, 0, 'another tenant has none of it');
      await rejectsWithCode(ream.submit({ tenantId: 'b', files: [pdf] }), 'insufficient_credits');
      const grants = await ream.listAudit({ action: 'credits.grant', limit: 10 });
      assert.deepEqual(grants.map((g) => [g.tenantId, g.subject, (g.details as { amount: number }).amount]), [['a', 'cli', 10]]);
    } finally {
      await ream.close();
    }
  });
});

test('a cancelled job pays for the pages it read before the cancel, no more', async () => {
  await withDir(async (dir) => {
    const pdf = join(dir, 'long.pdf');
    await writeFile(pdf, await makePdf({ pages: numberedPages('L', 40) }));
    // Every chunk but the first waits for its abort: the job is cancelled with one chunk read.
    const waiting: Analyzer = {
      name: 'waiting',
      config: null,
      async analyze(pages, { signal }) {
        if ((pages[0]?.page ?? 0) > 1) await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
        return {};
      },
    };
    const ream = await createReam({
      dataDir: join(dir, 'data'), threads: 1, concurrency: 2, credits: { prices: PRICES },
      pipelines: { waiting: (options) => ({ ...builtinPipelines.extract!(options), name: 'waiting', analyzers: [waiting] }) },
    });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 1000, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', files: [pdf], pipeline: 'waiting', options: { chunkPages: 10 } });
      await new Promise<void>((resolve) => {
        const off = ream.subscribe({ jobId: job.id }, (event) => {
          if (event.type === 'chunk.completed') { off(); resolve(); }
        });
      });
      await ream.cancel(job.id);
      assert.equal((await ream.wait(job.id)).status, 'cancelled');
      const [output] = await Array.fromAsync(ream.results(job.id));
      const read = output?.pages.length ?? 0;
      assert.ok(read >= 10 && read < 40, `some pages were read before the cancel (${read})`);
      const entries = await ream.tenants.listCredits({ jobId: job.id, limit: 10 });
      const held = -entries.filter((e) => e.kind === 'reserve').reduce((sum, e) => sum + e.amount, 0);
      const settled = entries.find((e) => e.kind === 'refund');
      assert.equal((settled?.details as { pages: number } | undefined)?.pages, read, 'charged for the pages read, as its result lists them');
      assert.equal(settled?.amount, held - PRICES.page * read);
    } finally {
      await ream.close();
    }
  });
});

test('a failed job is refunded: its reservation comes back whole', async () => {
  await withDir(async (dir) => {
    const bad = join(dir, 'bad.pdf');
    await writeFile(bad, '%PDF-1.7\nnot really a pdf');
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: PRICES } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 5, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', files: [bad] });
      assert.equal((await ream.wait(job.id)).status, 'failed');
      const entries = await ream.tenants.listCredits({ jobId: job.id, limit: 10 });
      assert.deepEqual(entries.map((e) => [e.kind, e.amount]), [['reserve', -2], ['refund', 2]]);
      assert.equal((await ream.tenants.tenant('a')).balance, 5);
    } finally {
      await ream.close();
    }
  });
});

for (const mode of MODES) {
  test(`reserve, then finalize on success or refund on failure, one entry each, per tenant (${mode})`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withDir(async (dir) => {
      const [good, bad] = [join(dir, 'two.pdf'), join(dir, 'bad.pdf')];
      await writeFile(good, await makePdf({ pages: ['one', 'two'] }));
      await writeFile(bad, '%PDF-1.7\nnot really a pdf');
      await withModeReam(mode, { credits: { prices: PRICES } }, async ({ ream }) => {
        await rejectsWithCode(ream.submit({ tenantId: 'a', files: [good] }), 'insufficient_credits');
        await ream.tenants.grantCredits({ tenantId: 'a', amount: 10, reason: 'trial', by: BY });
        const [ok, failed] = [await ream.submit({ tenantId: 'a', files: [good] }), await ream.submit({ tenantId: 'a', files: [bad] })];
        assert.equal((await ream.wait(ok.id)).status, 'succeeded');
        assert.equal((await ream.wait(failed.id)).status, 'failed');
        assert.deepEqual((await ream.tenants.listCredits({ jobId: ok.id, limit: 10 })).map((e) => [e.kind, e.amount]), [['reserve', -2], ['reserve', -2], ['finalize', 4 - 4]], 'a page at submit, the second once inspected');
        assert.deepEqual((await ream.tenants.listCredits({ jobId: failed.id, limit: 10 })).map((e) => [e.kind, e.amount]), [['reserve', -2], ['refund', 2]]);
        assert.equal((await ream.tenants.tenant('a')).balance, 6, '10 granted, 4 charged for two pages, the failed job refunded');
        assert.equal((await ream.tenants.tenant('b')).balance, 0, 'another tenant has none of it');
        await rejectsWithCode(ream.submit({ tenantId: 'b', files: [good] }), 'insufficient_credits');
      });
    });
  });
}

test('a process that stops after the reservation: the next one finishes the job and settles it once', async () => {
  await withDir(async (dir) => {
    const pdf = join(dir, 'two.pdf');
    await writeFile(pdf, await makePdf({ pages: ['one', 'two'] }));
    const dataDir = join(dir, 'data');
    const first = await createReam({ dataDir, threads: 1, work: false, credits: { prices: PRICES } });
    let jobId: string;
    try {
      await first.tenants.grantCredits({ tenantId: 'a', amount: 20, reason: 'trial', by: BY });
      jobId = (await first.submit({ tenantId: 'a', files: [pdf] })).id;
      assert.deepEqual((await first.tenants.listCredits({ jobId, limit: 10 })).map((e) => e.kind), ['reserve'], 'reserved, never worked on');
    } finally {
      await first.close();
    }
    for (let open = 0; open < 2; open++) {
      const next = await createReam({ dataDir, threads: 1, credits: { prices: PRICES } });
      try {
        assert.equal((await next.wait(jobId)).status, 'succeeded');
        // Settled by whichever path got there (the job's end, or recovery at the second open): once.
        const entries = await next.tenants.listCredits({ jobId, limit: 10 });
        assert.deepEqual(entries.map((e) => [e.kind, e.amount]), [['reserve', -2], ['reserve', -2], ['finalize', 4 - 4]], `open ${open}`);
        assert.equal((await next.tenants.tenant('a')).balance, 16);
      } finally {
        await next.close();
      }
    }
  });
});

test('quotas: concurrent jobs, pages per day and storage are refused with the numbers', async () => {
  await withDir(async (dir) => {
    const pdf = join(dir, 'one.pdf');
    await writeFile(pdf, await makePdf({ pages: ['one'] }));
    const other = join(dir, 'other.pdf');
    await writeFile(other, await makePdf({ pages: ['other'] }));
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
    try {
      await ream.tenants.setQuotas('a', { concurrentJobs: 1 });
      await ream.submit({ tenantId: 'a', files: [pdf] });
      const busy = await rejectsWithCode(ream.submit({ tenantId: 'a', files: [pdf] }), 'quota_exceeded');
      assert.equal(busy.status, 429);
      assert.deepEqual(busy.details, { quota: 'concurrentJobs', limit: 1, used: 1, needed: 1 });
      await ream.submit({ tenantId: 'b', files: [pdf] }); // another tenant's quota is its own

      await ream.tenants.setQuotas('a', { pagesPerDay: 1 });
      const pages = await rejectsWithCode(ream.submit({ tenantId: 'a', files: [pdf, other] }), 'quota_exceeded');
      // The job of `a` made above, not read yet (no work here), counts a page.
      assert.deepEqual(pages.details, { quota: 'pagesPerDay', limit: 1, used: 1, needed: 2 });

      const stored = (await ream.tenants.tenant('a')).usage.storageBytes;
      assert.ok(stored > 0);
      await ream.tenants.setQuotas('a', { storageBytes: stored });
      const full = await rejectsWithCode(ream.submit({ tenantId: 'a', files: [other] }), 'quota_exceeded');
      assert.deepEqual(full.details, { quota: 'storageBytes', limit: stored, used: stored, needed: (await stat(other)).size });
      await ream.submit({ tenantId: 'a', files: [pdf] }); // stored already: it costs nothing
      await ream.tenants.setQuotas('a', {});
      await ream.submit({ tenantId: 'a', files: [pdf] });
    } finally {
      await ream.close();
    }
  });
});

for (const mode of MODES) {
  test(`quotas hold against submits and stores sent at once (${mode})`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withDir(async (dir) => {
      const pdf = join(dir, 'one.pdf');
      await writeFile(pdf, await makePdf({ pages: ['one'] }));
      await withModeReam(mode, { work: false }, async ({ ream }) => {
        const outcomes = async (runs: Array<Promise<unknown>>): Promise<{ made: number; refused: string[] }> => {
          const settled = await Promise.allSettled(runs);
          const refused = settled.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as { details?: { quota?: string } }).details?.quota)] : []));
          return { made: settled.length - refused.length, refused };
        };
        const five = (): Array<Promise<unknown>> => Array.from({ length: 5 }, () => ream.submit({ tenantId: 'a', files: [pdf] }));

        await ream.tenants.setQuotas('a', { concurrentJobs: 2 });
        assert.deepEqual(await outcomes(five()), { made: 2, refused: ['concurrentJobs', 'concurrentJobs', 'concurrentJobs'] });
        await ream.tenants.setQuotas('a', { pagesPerDay: 4 });
        assert.deepEqual(await outcomes(five()), { made: 2, refused: ['pagesPerDay', 'pagesPerDay', 'pagesPerDay'] }, 'two pages were left of four');
        // A refused job keeps none of the files it brought new: nothing would name them.
        const storedBefore = (await ream.tenants.tenant('a')).usage.storageBytes;
        const brandNew = join(dir, 'brand-new.pdf');
        await writeFile(brandNew, await makePdf({ pages: ['never admitted'] }));
        await rejectsWithCode(ream.submit({ tenantId: 'a', files: [brandNew] }), 'quota_exceeded');
        assert.equal((await ream.tenants.tenant('a')).usage.storageBytes, storedBefore, 'its file was taken back');

        const files = await Promise.all(['A', 'B', 'C', 'D'].map(async (letter) => Buffer.from(await makePdf({ pages: [`stored at once ${letter}`] }))));
        const size = Math.max(...files.map((bytes) => bytes.length));
        const stored = (await ream.tenants.tenant('a')).usage.storageBytes;
        await ream.tenants.setQuotas('a', { storageBytes: stored + 2 * size + Math.floor(size / 2) });
        const stores = files.map((bytes, i) => ream.storeDocument(Readable.from([bytes]), `at-once-${i}.pdf`, { tenantId: 'a', storageQuota: true }));
        assert.deepEqual(await outcomes(stores), { made: 2, refused: ['storageBytes', 'storageBytes'] });
        assert.ok((await ream.tenants.tenant('a')).usage.storageBytes <= stored + 2 * size + Math.floor(size / 2), 'within the quota');
      });
    });
  });
}

const pgUnavailable = await postgresUnavailable();

for (const flavor of ['sqlite', 'postgres'] as const) {
  test(`two instances settling one job at once write one entry (${flavor})`, async (t) => {
    if (flavor === 'postgres' && !requireOrSkip(t, pgUnavailable === undefined, pgUnavailable ?? '')) return;
    const opened = flavor === 'sqlite' ? await sqliteStores() : await postgresStores();
    try {
      const [one, two] = opened.stores;
      const tenantId = randomUUID();
      const job = await one.createJob({ id: randomUUID(), tenantId, key: null, pipeline: 'extract', options: {}, priority: 0 }, 1);
      const doc = await one.putDocument({ id: randomUUID(), tenantId, sha256: '0'.repeat(63) + '1', name: 'a.pdf', size: 1, mediaType: 'application/pdf' }, 1);
      await one.addJobDocuments([{ jobId: job.id, documentId: doc.id, ordinal: 0, source: 'a.pdf' }]);
      await one.putDocumentResult({ jobId: job.id, documentId: doc.id, output: { pages: [{ page: 1, text: 'a', source: 'ocr' }, { page: 2, text: 'b', source: 'text' }] } });
      const keepers = [new CreditKeeper(one, { prices: PRICES }), new CreditKeeper(two, { prices: PRICES })] as const;
      await one.appendCredit({ tenantId, kind: 'grant', amount: 100, key: `grant:${randomUUID()}`, jobId: null, reason: 'test', at: 1 });
      await keepers[0].reserve(job, keepers[0].estimate({ documents: 1, options: {} }), 1);
      await keepers[1].reserve(job, keepers[1].estimate({ documents: 1, options: {} }), 1); // a retried submit
      const ended = await one.updateJob(job.id, { status: 'succeeded', finishedAt: 2 });
      await Promise.all(Array.from({ length: 6 }, (_, i) => keepers[i % 2 === 0 ? 0 : 1].settle(ended)));
      const entries = await two.listCredits({ jobId: job.id, limit: 10 });
      assert.deepEqual(entries.map((e) => [e.kind, e.amount, e.key]), [['reserve', -2, creditKeys.reserve(job.id)], ['finalize', 2 - (2 * 2 + 5), creditKeys.settle(job)]]);
      assert.equal(await one.creditBalance(tenantId), 100 - 9, 'two pages at 2, one of them OCR at 5 more');
    } finally {
      await opened.close();
    }
  });
}

test('documents read to more pages than reserved top the reservation up once each, drawing first on pages counted at submit', async () => {
  const opened = await sqliteStores();
  try {
    const [store] = opened.stores;
    const tenantId = randomUUID();
    const keeper = new CreditKeeper(store, { prices: PRICES });
    await store.appendCredit({ tenantId, kind: 'grant', amount: 100, key: `grant:${randomUUID()}`, jobId: null, reason: 'test', at: 1 });
    const job = await store.createJob({ id: randomUUID(), tenantId, key: null, pipeline: 'extract', options: {}, priority: 0 }, 1);
    // Two documents: one counted at 3 pages beforehand, one not (a page): 4 pages reserved.
    await keeper.reserve(job, keeper.estimate({ documents: 2, pages: 4, options: {} }), 2);
    await keeper.topUp(job, 'counted', 3);
    await keeper.topUp(job, 'counted', 3); // a repeated inspection
    await keeper.topUp(job, 'uncounted', 5);
    await keeper.topUp(job, 'single', 1);
    await keeper.topUp(job, 'attachment', 2, true);
    const entries = await store.listCredits({ jobId: job.id, limit: 10 });
    // Entries of one millisecond list in no set order: compared by key.
    assert.deepEqual(entries.map((e) => [e.key, e.amount]).sort(), [
      [creditKeys.reserve(job.id), -8],
      [creditKeys.topUp(job.id, 'counted'), 0],
      [creditKeys.topUp(job.id, 'uncounted'), -8],
      [creditKeys.topUp(job.id, 'attachment'), -4],
    ].sort(), 'the counted document\'s pages were reserved at submit; the other\'s 4 more pages now; an attachment\'s 2 pages, none reserved at submit');
    assert.equal(await store.creditBalance(tenantId), 100 - 20);
    await rejectsWithCode(keeper.topUp(job, 'huge', 100), 'insufficient_credits');
    assert.equal(await store.creditBalance(tenantId), 100 - 20, 'a refused top-up holds nothing');
  } finally {
    await opened.close();
  }
});

/** One process owns an embedded data dir: its two "instances" are two keepers over one connection. */
async function sqliteStores(): Promise<{ stores: [Store, Store]; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-credits-'));
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

/** A job of one document in `store`, a page reserved for it at a credit a page, its tenant granted 10 credits. */
async function reservedJob(store: Store): Promise<{ tenantId: string; keeper: CreditKeeper; job: JobRecord }> {
  const tenantId = randomUUID();
  const keeper = new CreditKeeper(store, { prices: { page: 1 } });
  await store.appendCredit({ tenantId, kind: 'grant', amount: 10, key: `grant:${randomUUID()}`, jobId: null, reason: 'test', at: 1 });
  const job = await store.createJob({ id: randomUUID(), tenantId, key: null, pipeline: 'extract', options: {}, priority: 0 }, 1);
  await keeper.reserve(job, keeper.estimate({ documents: 1, options: {} }), 1);
  return { tenantId, keeper, job };
}

async function postgresStores(): Promise<{ stores: [Store, Store]; close(): Promise<void> }> {
  const { database, open, drop } = await freshSchema();
  return { stores: [await PostgresStore.open(database), await PostgresStore.open(await open())], close: drop };
}

test('a retry is checked against the balance and its settlement charges only what it read again', async () => {
  await withDir(async (dir) => {
    const bad = join(dir, 'bad.pdf');
    await writeFile(bad, '%PDF-1.7\nnot really a pdf');
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: PRICES } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 2, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', files: [bad] });
      assert.equal((await ream.wait(job.id)).status, 'failed');
      await ream.tenants.grantCredits({ tenantId: 'a', amount: -2, reason: 'spent elsewhere', by: BY });
      const refused = await rejectsWithCode(ream.retry(job.id), 'insufficient_credits');
      assert.deepEqual(refused.details, { balance: 0, needed: 2 });
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 2, reason: 'top-up', by: BY });
      await ream.retry(job.id);
      assert.equal((await ream.wait(job.id)).status, 'failed');
      const entries = await ream.tenants.listCredits({ jobId: job.id, limit: 10 });
      assert.deepEqual(entries.map((e) => [e.key, e.kind, e.amount]).sort(), [
        [`job:${job.id}:r1:reserve`, 'reserve', -2],
        [`job:${job.id}:r1:settle`, 'refund', 2],
        [`job:${job.id}:reserve`, 'reserve', -2],
        [`job:${job.id}:settle`, 'refund', 2],
      ], 'each run reserved and settled once; nothing read, nothing charged');
      assert.equal((await ream.tenants.tenant('a')).balance, 2);
    } finally {
      await ream.close();
    }
  });
});

test('a rows job with a token budget for its model reserves that budget, as an llm job does', async () => {
  const opened = await sqliteStores();
  try {
    const keeper = new CreditKeeper(opened.stores[0], { prices: { page: 1, llmPrompt1kTokens: 2, llmCompletion1kTokens: 4 } });
    const llm = keeper.estimate({ documents: 1, options: { maxTokens: 10_000 } });
    const rows = keeper.estimate({ documents: 1, options: { llm: { mode: 'summarize', maxTokens: 10_000 } } });
    assert.deepEqual(rows, llm);
    assert.equal(rows.credits, 1 + 40, 'a page, and 10,000 tokens at the dearer price of 4 per 1,000');
  } finally {
    await opened.close();
  }
});

test('a table not counted at submit reserves its rows once inspected: past the balance its rows are not read, and the balance never goes below zero', async () => {
  await withDir(async (dir) => {
    const lines = ['name,note', ...Array.from({ length: 40 }, (_, i) => `row ${i + 1},fine`)];
    const csv = join(dir, 'rows.csv');
    await writeFile(csv, `${lines.join('\n')}\n`);
    const upload = (): string => csv;
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 1 } } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 10, reason: 'trial', by: BY });
      const short = await ream.submit({ tenantId: 'a', pipeline: 'rows', files: [upload()] });
      assert.equal((await ream.wait(short.id)).status, 'failed');
      const [refused] = await ream.jobDocuments(short.id);
      assert.equal(refused?.error?.code, 'insufficient_credits');
      assert.deepEqual(refused?.error?.details, { balance: 9, needed: 39 }, 'a row reserved at submit, 39 more needed');
      assert.equal((await ream.tenants.tenant('a')).balance, 10, 'nothing read, nothing charged');

      await ream.tenants.grantCredits({ tenantId: 'a', amount: 40, reason: 'top-up', by: BY });
      const paid = await ream.submit({ tenantId: 'a', pipeline: 'rows', files: [upload()] });
      assert.equal((await ream.wait(paid.id)).status, 'succeeded');
      const entries = await ream.tenants.listCredits({ jobId: paid.id, limit: 10 });
      assert.deepEqual(entries.map((e) => [e.kind, e.amount]), [['reserve', -1], ['reserve', -39], ['finalize', 0]]);
      assert.equal((await ream.tenants.tenant('a')).balance, 10);
    } finally {
      await ream.close();
    }
  });
});

test('an e-mail\'s attachment, reserved nothing at submit, reserves its pages once inspected', async () => {
  await withDir(async (dir) => {
    const eml = join(dir, 'mail.eml');
    const attachment = { filename: 'three.pdf', contentType: 'application/pdf', content: await makePdf({ pages: ['one', 'two', 'three'] }) };
    await writeFile(eml, makeEmail({ subject: 'Invoice', body: 'See attached.', attachments: [attachment] }));
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 1 } } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 10, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', files: [eml] });
      await ream.wait(job.id);
      const children = (await ream.jobDocuments(job.id)).filter((doc) => doc.parentId !== undefined);
      assert.equal(children.length, 1);
      const entries = await ream.tenants.listCredits({ jobId: job.id, limit: 10 });
      const topUp = entries.find((entry) => entry.key === creditKeys.topUp(job.id, children[0]?.documentId ?? ''));
      assert.equal(topUp?.amount, -3, 'its three pages');
      assert.ok((await ream.tenants.tenant('a')).balance >= 0);
    } finally {
      await ream.close();
    }
  });
});

test('a long table is charged the rows it read (its result lists none)', async () => {
  await withDir(async (dir) => {
    const rows = 10_050;
    const lines = ['name,note'];
    for (let i = 1; i <= rows; i++) lines.push(i === 17 || i === 9_000 ? `row ${i},x,one cell too many` : `row ${i},fine`);
    const long = join(dir, 'long.csv');
    await writeFile(long, `${lines.join('\n')}\n`);
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 1 } } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 100_000, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', pipeline: 'rows', files: [long] });
      assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
      const settled = (await ream.tenants.listCredits({ jobId: job.id, limit: 10 })).find((entry) => entry.kind === 'finalize');
      assert.equal((settled?.details as { pages: number }).pages, rows - 2, 'every row read, none of the two that failed');
    } finally {
      await ream.close();
    }
  });
});

test('each PDF report a job rendered is charged', async (t) => {
  if (!requireOrSkip(t, existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`)) return;
  await withDir(async (dir) => {
    const small = join(dir, 'small.csv');
    await writeFile(small, 'name,amount\nAcme,10\nInitech,20\n');
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 1, renderedPdf: 7 } } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 100, reason: 'trial', by: BY });
      const reports = await ream.submit({ tenantId: 'a', pipeline: 'rows', options: { template: '<h1>{{ name }}</h1>', pdf: true }, files: [small] });
      assert.equal((await ream.wait(reports.id)).status, 'succeeded');
      const charged = (await ream.tenants.listCredits({ jobId: reports.id, limit: 10 })).find((entry) => entry.kind === 'finalize');
      const details = charged?.details as { pages: number; renderedPdfs: number; charge: number };
      assert.deepEqual([details.pages, details.renderedPdfs, details.charge], [2, 2, 2 + 2 * 7]);
    } finally {
      await ream.close();
    }
  });
});

for (const flavor of ['sqlite', 'postgres'] as const) {
  test(`two instances storing for one tenant at once stay within its storage quota (${flavor})`, async (t) => {
    if (flavor === 'postgres' && !requireOrSkip(t, pgUnavailable === undefined, pgUnavailable ?? '')) return;
    const opened = flavor === 'sqlite' ? await sqliteStores() : await postgresStores();
    try {
      const tenantId = randomUUID();
      await opened.stores[0].setQuotas(tenantId, { storageBytes: 1_000 });
      const keepers = [new CreditKeeper(opened.stores[0]), new CreditKeeper(opened.stores[1])] as const;
      const store = (by: 0 | 1, size: number): Promise<unknown> => keepers[by].withinStorageQuota(tenantId, size, () =>
        opened.stores[by].putDocument({ id: randomUUID(), tenantId, sha256: randomUUID().replaceAll('-', '').padEnd(64, '0'), name: 'a.pdf', size, mediaType: 'application/pdf' }, 1));
      await store(0, 100);
      await store(1, 700); // the other instance: 800 of 1,000
      await rejectsWithCode(store(0, 700), 'quota_exceeded');
      assert.equal((await opened.stores[0].tenantUsage(tenantId, 0)).storageBytes, 800);
    } finally {
      await opened.close();
    }
  });
}

test('a retry reserves the pages of the documents it reads again: past the balance it is refused, and the balance never goes below zero', async () => {
  await withDir(async (dir) => {
    const pdf = join(dir, 'long.pdf');
    await writeFile(pdf, await makePdf({ pages: numberedPages('L', 30) }));
    let down = true;
    const flaky: Analyzer = {
      name: 'flaky',
      config: null,
      analyze(pages) {
        if (down && (pages[0]?.page ?? 0) > 10) return Promise.reject(new Error('the service is down'));
        return Promise.resolve({});
      },
    };
    const ream = await createReam({
      dataDir: join(dir, 'data'), threads: 1, maxAttempts: 1, credits: { prices: { page: 1 } },
      pipelines: { flaky: (options) => ({ ...builtinPipelines.extract!(options), name: 'flaky', analyzers: [flaky] }) },
    });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 30, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', files: [pdf], pipeline: 'flaky', options: { chunkPages: 10 } });
      assert.notEqual((await ream.wait(job.id)).status, 'succeeded');
      const balance = (await ream.tenants.tenant('a')).balance;
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 5 - balance, reason: 'spent elsewhere', by: BY });
      down = false;
      const refused = await rejectsWithCode(ream.retry(job.id), 'insufficient_credits');
      assert.equal((refused.details as { needed: number }).needed, 20, 'the pages to read again: those of the two chunks that failed');
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 15, reason: 'top-up', by: BY });
      await ream.retry(job.id);
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      assert.equal((await ream.tenants.tenant('a')).balance, 0, '20 pages read on the retry, 20 paid');
      const entries = await ream.tenants.listCredits({ jobId: job.id, limit: 10 });
      assert.ok(entries.some((e) => e.key === `job:${job.id}:r1:reserve` && e.amount === -20), 'the retry held its pages while it ran');
    } finally {
      await ream.close();
    }
  });
});

test('a document added to a running job holds a page as it is added and the rest once inspected: the job holds every page it reads', async () => {
  await withDir(async (dir) => {
    const one = join(dir, 'one.pdf');
    await writeFile(one, await makePdf({ pages: ['only page'] }));
    const five = join(dir, 'five.pdf');
    await writeFile(five, await makePdf({ pages: numberedPages('F', 5) }));
    const more = join(dir, 'more.pdf');
    await writeFile(more, await makePdf({ pages: ['one more'] }));
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 1 } } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 6, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', files: [one] });
      const release = ream.holdOpen(job.id);
      const added = await ream.addFile(job.id, { path: five });
      await waitFor(async () => (await ream.tenants.listCredits({ jobId: job.id, limit: 10 })).some((e) => e.key === creditKeys.topUp(job.id, added.documentId)));
      const held = (await ream.tenants.listCredits({ jobId: job.id, limit: 10 })).reduce((sum, entry) => sum + entry.amount, 0);
      assert.equal(held, -6, 'the submitted page and the added document\'s five');
      const refused = await rejectsWithCode(ream.addFile(job.id, { path: more }), 'insufficient_credits');
      assert.deepEqual(refused.details, { balance: 0, needed: 1 });
      await release();
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      assert.equal((await ream.tenants.tenant('a')).balance, 0, 'six pages read, six paid');
    } finally {
      await ream.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a retry inspecting a document that failed after its top-up, before it was marked inspected, tops it up again: the retry holds every page it reads', async () => {
  const opened = await sqliteStores();
  try {
    const [store] = opened.stores;
    const { tenantId, keeper, job } = await reservedJob(store);
    await keeper.topUp(job, 'doc', 5); // then the document fails, never marked inspected
    const failed = await store.updateJob(job.id, { status: 'failed', finishedAt: 2 });
    assert.ok(failed);
    await keeper.settle(failed);
    assert.equal(await store.creditBalance(tenantId), 10, 'nothing read, all given back');
    const retried = await store.updateJob(job.id, { status: 'running', finishedAt: null, retryGeneration: 1 });
    assert.ok(retried);
    await keeper.reserveRetry(retried, keeper.estimate({ documents: 1, pages: 1, options: {} })); // a page per document not inspected
    await keeper.topUp(retried, 'doc', 5);
    assert.equal(await store.creditBalance(tenantId), 10 - 5, 'the retry holds the five pages it reads');
  } finally {
    await opened.close();
  }
});

test('documents added to a job that had ended run it again, and its new end settles them: a failed one gives its page back, a read one is charged', async () => {
  await withDir(async (dir) => {
    const one = join(dir, 'one.pdf');
    await writeFile(one, await makePdf({ pages: ['only page'] }));
    const five = join(dir, 'five.pdf');
    await writeFile(five, await makePdf({ pages: numberedPages('F', 5) }));
    const bad = join(dir, 'bad.pdf');
    await writeFile(bad, '%PDF-1.7\nnot really a pdf');
    const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 1 } } });
    try {
      await ream.tenants.grantCredits({ tenantId: 'a', amount: 20, reason: 'trial', by: BY });
      const job = await ream.submit({ tenantId: 'a', files: [one] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      await ream.addFile(job.id, { path: bad });
      assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
      assert.equal((await ream.tenants.tenant('a')).balance, 20 - 1, 'the bad file read nothing: its page came back');
      await ream.addFile(job.id, { path: five });
      await ream.wait(job.id);
      assert.equal((await ream.tenants.tenant('a')).balance, 20 - 6);
      const entries = await ream.tenants.listCredits({ jobId: job.id, limit: 20 });
      assert.equal(entries.filter((entry) => entry.kind === 'finalize' || entry.kind === 'refund').length, 3, 'each end settled once');
      assert.equal(entries.reduce((sum, entry) => sum + entry.amount, 0), -6, 'nothing held once it ended');
    } finally {
      await ream.close();
    }
  });
});

test('a job settled before settlements named their end, ended again by an added document, is settled again: the balance returns exactly', async () => {
  const opened = await sqliteStores();
  try {
    const [store] = opened.stores;
    const { tenantId, keeper, job } = await reservedJob(store);
    // Its settlement as an older version wrote it: no finishedAt in its details (nothing read).
    await store.appendCredit({ tenantId, kind: 'refund', amount: 1, key: creditKeys.settle(job), jobId: job.id, reason: null, at: 3, details: { charge: 0, status: 'failed' } });
    assert.ok(await store.updateJob(job.id, { status: 'running', finishedAt: null }));
    await keeper.reserveAdded(job, ['added']);
    assert.equal(await store.creditBalance(tenantId), 9, 'the added document holds its page');
    const ended = await store.updateJob(job.id, { status: 'failed', finishedAt: Date.now() });
    assert.ok(ended);
    await keeper.settle(ended);
    assert.equal(await store.creditBalance(tenantId), 10, 'nothing read: every page given back');
  } finally {
    await opened.close();
  }
});

test('a top-up landing after its job ended (a cancel while the document was read) holds nothing: the settlement stays whole', async () => {
  const opened = await sqliteStores();
  try {
    const [store] = opened.stores;
    const { tenantId, keeper, job } = await reservedJob(store);
    const cancelled = await store.updateJob(job.id, { status: 'cancelled', finishedAt: 2 });
    assert.ok(cancelled);
    await keeper.settle(cancelled);
    await rejectsWithCode(keeper.topUp(job, 'doc', 5), 'cancelled');
    assert.equal(await store.creditBalance(tenantId), 10, 'nothing held once the job ended');
  } finally {
    await opened.close();
  }
});

for (const flavor of ['sqlite', 'postgres'] as const) {
  test(`a document added as its job is cancelled holds nothing once the cancel has settled the job (${flavor})`, async (t) => {
    if (flavor === 'postgres' && !requireOrSkip(t, pgUnavailable === undefined, pgUnavailable ?? '')) return;
    const opened = flavor === 'sqlite' ? await sqliteStores() : await postgresStores();
    try {
      const [one, two] = opened.stores;
      const { tenantId, keeper, job } = await reservedJob(one);
      // The intake read the job running; a cancel (another process) ended and settled it since.
      const cancelled = await one.updateJob(job.id, { status: 'cancelled', finishedAt: 2 });
      assert.ok(cancelled);
      await keeper.settle(cancelled);
      await new CreditKeeper(two, { prices: { page: 1 } }).reserveAdded(job, ['added']);
      assert.equal(await two.creditBalance(tenantId), 10, 'nothing held once the job ended');
    } finally {
      await opened.close();
    }
  });
}

test('a retry that ended before its reservation was written (its documents failed at once) holds nothing after its settlement', async () => {
  const opened = await sqliteStores();
  try {
    const [store] = opened.stores;
    const { tenantId, keeper, job } = await reservedJob(store);
    const failed = await store.updateJob(job.id, { status: 'failed', finishedAt: 2 });
    assert.ok(failed);
    await keeper.settle(failed);
    const retried = await store.updateJob(job.id, { status: 'running', finishedAt: null, retryGeneration: 1 });
    assert.ok(retried);
    const ended = await store.updateJob(job.id, { status: 'failed', finishedAt: 3 });
    assert.ok(ended);
    await keeper.settle(ended);
    await keeper.reserveRetry(retried, keeper.estimate({ documents: 1, pages: 1, options: {} }));
    assert.equal(await store.creditBalance(tenantId), 10);
  } finally {
    await opened.close();
  }
});

test('a document whose analysis failed partway is charged the model tokens its answered chunks spent, not its pages', async () => {
  const server = await startFakeOpenAi((_request, index) => (index < 2
    ? { content: '{"summary": "a part"}', promptTokens: 100, completionTokens: 20 }
    : { status: 401, message: 'key revoked' }));
  try {
    await withDir(async (dir) => {
      const pdf = join(dir, 'three.pdf');
      await writeFile(pdf, await makePdf({ pages: numberedPages('T', 3) }));
      const ream = await createReam({
        dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 1, llmPrompt1kTokens: 10, llmCompletion1kTokens: 10 } },
        llm: { baseURL: server.baseURL, model: 'm', maxConcurrency: 1 },
      });
      try {
        await ream.tenants.grantCredits({ tenantId: 'a', amount: 10, reason: 'trial', by: BY });
        const job = await ream.submit({ tenantId: 'a', pipeline: 'llm', options: { mode: 'summarize', chunkPages: 1, overlapPages: 0 }, files: [pdf] });
        assert.equal((await ream.wait(job.id)).status, 'failed');
        const settled = (await ream.tenants.listCredits({ jobId: job.id, limit: 10 })).find((entry) => entry.kind === 'refund');
        const { charge, pages, promptTokens, completionTokens } = (settled?.details ?? {}) as Record<string, unknown>;
        assert.deepEqual({ charge, pages, promptTokens, completionTokens }, { charge: 3, pages: 0, promptTokens: 200, completionTokens: 40 });
        assert.equal((await ream.tenants.tenant('a')).balance, 10 - 3, '240 tokens at 10 credits per 1,000, rounded up');
      } finally {
        await ream.close();
      }
    });
  } finally {
    await server.close();
  }
});
