import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import type { JsonValue } from '../json.ts';
import { fromJsonText, type SqlFlavor, toJsonText, toNullableNumber, toNumber } from '../sql/dialect.ts';
import type { DocumentTables } from './documents-schema.ts';
import type { JobDocumentTables } from './job-documents-schema.ts';
import type { JobTables } from './jobs-schema.ts';
import { UNFINISHED_JOB_STATUSES } from './job-store.ts';
import type { CreditEntry, CreditKind, TenantQuotas, TenantStore } from './tenant-store.ts';
import type { CreditEntriesTable, TenantQuotasTable, TenantTables } from './tenants-schema.ts';
import type { StoredBytesTables } from './stored-bytes-schema.ts';

/** Sorts by time across processes, like the audit log's ids. */
function creditId(at: number): string {
  return `crd_${at.toString(36).padStart(9, '0')}_${randomBytes(8).toString('hex')}`;
}

function entryFromRow(row: Selectable<CreditEntriesTable>): CreditEntry {
  return {
    id: row.id, tenantId: row.tenant_id, kind: row.kind as CreditKind, amount: toNumber(row.amount), key: row.key,
    jobId: row.job_id, reason: row.reason, at: toNumber(row.at),
    ...(row.details === null ? {} : { details: fromJsonText<JsonValue>(row.details) }),
  };
}

function quotasFromRow(row: Selectable<TenantQuotasTable> | undefined): TenantQuotas {
  if (!row) return {};
  const pages = toNullableNumber(row.pages_per_day);
  const jobs = toNullableNumber(row.concurrent_jobs);
  const bytes = toNullableNumber(row.storage_bytes);
  return {
    ...(pages === null ? {} : { pagesPerDay: pages }),
    ...(jobs === null ? {} : { concurrentJobs: jobs }),
    ...(bytes === null ? {} : { storageBytes: bytes }),
  };
}

type Tables = TenantTables & StoredBytesTables & DocumentTables & JobDocumentTables & Omit<JobTables, 'job_documents'>;

/**
 * The tenant port in dialect-neutral Kysely (SQLite and PostgreSQL). Exactly-once by the ledger's
 * unique key: an append inserts `on conflict do nothing` and moves the balance only when its row
 * went in, both in one transaction, so a retry, a racing instance or a recovery after kill -9
 * never writes an entry twice. The tables must exist (`tenantMigrations`).
 */
export function sqlTenantStore(kysely: Kysely<unknown>, flavor: SqlFlavor): TenantStore {
  const db = kysely.withTables<Tables>();

  /**
   * The tenant's stored bytes: on PostgreSQL the counter its triggers keep (one row, exact in
   * every process); on SQLite summed from its live documents and its jobs' report files (each
   * file once, however many of its jobs made the same bytes).
   */
  async function storedBytes(tenantId: string, from: Kysely<Tables> = db): Promise<number> {
    if (flavor === 'postgres') {
      const row = await from.selectFrom('tenant_stored_bytes').select('bytes').where('tenant_id', '=', tenantId).executeTakeFirst();
      return row ? toNumber(row.bytes) : 0;
    }
    const bytes = await from.selectFrom('documents')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('size'), sql<number>`0`).as('bytes'))
      .where('tenant_id', '=', tenantId).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    // Templates can write far more than the documents they read.
    const reports = await from.selectFrom((eb) => eb.selectFrom('job_artifacts')
      .innerJoin('jobs', 'jobs.id', 'job_artifacts.job_id')
      .select(['job_artifacts.sha256', (inner) => inner.fn.max('job_artifacts.size').as('size')])
      .where('jobs.tenant_id', '=', tenantId)
      .groupBy('job_artifacts.sha256')
      .as('files'))
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('files.size'), sql<number>`0`).as('bytes'))
      .executeTakeFirstOrThrow();
    return toNumber(bytes.bytes) + toNumber(reports.bytes);
  }

  async function balanceOf(tenantId: string): Promise<number> {
    const row = await db.selectFrom('credit_balances').select('balance').where('tenant_id', '=', tenantId).executeTakeFirst();
    return row ? toNumber(row.balance) : 0;
  }

  return {
    async appendCredit(entry, options = {}) {
      return db.transaction().execute(async (trx) => {
        // The balance row first: its lock orders every append of this tenant from here on.
        await trx.insertInto('credit_balances').values({ tenant_id: entry.tenantId, balance: 0 })
          .onConflict((oc) => oc.column('tenant_id').doNothing()).execute();
        const moved = await trx.updateTable('credit_balances')
          .set({ balance: sql<number>`balance + ${entry.amount}` })
          .where('tenant_id', '=', entry.tenantId)
          .returning('balance')
          .executeTakeFirstOrThrow();
        const inserted = await trx.insertInto('credit_entries').values({
          id: creditId(entry.at), tenant_id: entry.tenantId, kind: entry.kind, amount: entry.amount, key: entry.key,
          job_id: entry.jobId, reason: entry.reason, at: entry.at,
          details: entry.details === undefined ? null : toJsonText(entry.details),
        }).onConflict((oc) => oc.column('key').doNothing()).returningAll().executeTakeFirst();
        const balance = toNumber(moved.balance);
        // Past 2^53 a balance is no exact number in JavaScript: refused (the transaction rolls back).
        if (!Number.isSafeInteger(balance)) {
          throw ReamError.nonRetryable('validation_failed', `this would take tenant ${entry.tenantId}'s balance past ${Number.MAX_SAFE_INTEGER} credits either way`);
        }
        if (!inserted) {
          // A repeat: undo the move (inside the transaction, so nobody saw it) and answer the first entry.
          const before = balance - entry.amount;
          await trx.updateTable('credit_balances').set({ balance: before }).where('tenant_id', '=', entry.tenantId).execute();
          const existing = await trx.selectFrom('credit_entries').selectAll().where('key', '=', entry.key).executeTakeFirstOrThrow();
          return { entry: entryFromRow(existing), applied: false, balance: before };
        }
        if (options.requireFunds === true && entry.amount < 0 && balance < 0) {
          const had = balance - entry.amount;
          throw ReamError.nonRetryable('insufficient_credits', `tenant ${entry.tenantId} has ${had} credit(s); this needs ${-entry.amount}`, {
            details: { balance: had, needed: -entry.amount },
          });
        }
        return { entry: entryFromRow(inserted), applied: true, balance };
      });
    },

    creditBalance: balanceOf,

    async findCredit(key) {
      const row = await db.selectFrom('credit_entries').selectAll().where('key', '=', key).executeTakeFirst();
      return row ? entryFromRow(row) : undefined;
    },

    async listCredits(query) {
      let select = db.selectFrom('credit_entries').selectAll();
      if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
      if (query.jobId !== undefined) select = select.where('job_id', '=', query.jobId);
      if (query.afterId !== undefined) select = select.where('id', '>', query.afterId);
      const rows = await select.orderBy('id').limit(query.limit).execute();
      return rows.map(entryFromRow);
    },

    async listTenants({ after, limit }) {
      const from = after ?? '';
      // Tenants that only ran jobs have no account row, yet admins look for them too: the next
      // tenant of the jobs index after each, one index probe per tenant however many jobs it has.
      // Merged and ordered by the database, as `after` is compared: its collation (en-US puts
      // 'beta' before 'Zed') is the page's order, or a page would skip what the next one starts past.
      const page = await sql<{ tenant_id: string }>`
        with recursive next_tenant (tenant_id, n) as (
          select (select min(tenant_id) from jobs where tenant_id > ${from}), 1
          union all
          select (select min(tenant_id) from jobs where tenant_id > next_tenant.tenant_id), n + 1
          from next_tenant where next_tenant.tenant_id is not null and n < ${limit}
        )
        select tenant_id from (
          select tenant_id from (select tenant_id from credit_balances where tenant_id > ${from} order by tenant_id limit ${limit}) balances
          union
          select tenant_id from (select tenant_id from tenant_quotas where tenant_id > ${from} order by tenant_id limit ${limit}) quotas
          union
          select tenant_id from next_tenant where tenant_id is not null
        ) ids order by tenant_id limit ${limit}`.execute(db);
      const ids = page.rows.map((row) => row.tenant_id);
      if (ids.length === 0) return [];
      const balances = new Map((await db.selectFrom('credit_balances').selectAll().where('tenant_id', 'in', ids).execute()).map((row) => [row.tenant_id, toNumber(row.balance)]));
      const quotas = new Map((await db.selectFrom('tenant_quotas').selectAll().where('tenant_id', 'in', ids).execute()).map((row) => [row.tenant_id, row]));
      return ids.map((tenantId) => ({ tenantId, balance: balances.get(tenantId) ?? 0, quotas: quotasFromRow(quotas.get(tenantId)) }));
    },

    async getQuotas(tenantId) {
      return quotasFromRow(await db.selectFrom('tenant_quotas').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst());
    },

    async setQuotas(tenantId, quotas) {
      const values = { pages_per_day: quotas.pagesPerDay ?? null, concurrent_jobs: quotas.concurrentJobs ?? null, storage_bytes: quotas.storageBytes ?? null };
      await db.insertInto('tenant_quotas').values({ tenant_id: tenantId, ...values })
        .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values)).execute();
    },

    async tenantUsage(tenantId, since) {
      const pages = await db.selectFrom('job_documents')
        .innerJoin('jobs', 'jobs.id', 'job_documents.job_id')
        // A document not read yet counts a page (it will read at least one): submits made one
        // after another before any was read are held to the quota too.
        .select(sql<number | string>`coalesce(sum(case when job_documents.pages_total is null and job_documents.status in ('queued', 'running') then 1 else coalesce(job_documents.pages_total, 0) end), 0)`.as('pages'))
        .where('jobs.tenant_id', '=', tenantId)
        .where('jobs.created_at', '>=', since)
        .executeTakeFirstOrThrow();
      const deleted = await db.selectFrom('deleted_job_pages')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('pages'), sql<number>`0`).as('pages'))
        .where('tenant_id', '=', tenantId)
        .where('created_at', '>=', since)
        .executeTakeFirstOrThrow();
      // Not a job under deletion: it is gone to every reader, and runs no more (its tasks find no job).
      const jobs = await db.selectFrom('jobs').select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('tenant_id', '=', tenantId).where('status', 'in', UNFINISHED_JOB_STATUSES).where('deleting_at', 'is', null).executeTakeFirstOrThrow();
      return {
        pagesSince: toNumber(pages.pages) + toNumber(deleted.pages),
        unfinishedJobs: toNumber(jobs.n),
        storageBytes: await storedBytes(tenantId),
      };
    },

    async largestDocumentBytes(tenantId) {
      const row = await db.selectFrom('documents')
        .select((eb) => eb.fn.coalesce(eb.fn.max<number | string>('size'), sql<number>`0`).as('bytes'))
        .where('tenant_id', '=', tenantId).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
      return toNumber(row.bytes);
    },
    tenantStoredBytes: (tenantId) => storedBytes(tenantId),

    async tenantHeldBytes(tenantId, at, except) {
      const reserved = (from: Kysely<Tables>): Promise<{ bytes: number | string }> => from.selectFrom('storage_reservations')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number | string>('bytes'), sql<number>`0`).as('bytes'))
        .where('tenant_id', '=', tenantId).where('expires_at', '>', at).where('id', '!=', except ?? '').executeTakeFirstOrThrow();
      if (flavor === 'postgres') {
        // One statement, one snapshot: a report recorded as its reservation goes is seen on one side only.
        const row = await db.selectNoFrom((eb) => [
          eb.fn.coalesce(eb.selectFrom('tenant_stored_bytes').select('bytes').where('tenant_id', '=', tenantId), sql<number>`0`).as('stored'),
          eb.fn.coalesce(eb.selectFrom('storage_reservations').select((inner) => inner.fn.sum<number | string>('bytes').as('bytes'))
            .where('tenant_id', '=', tenantId).where('expires_at', '>', at).where('id', '!=', except ?? ''), sql<number>`0`).as('reserved'),
        ]).executeTakeFirstOrThrow();
        return toNumber(row.stored) + toNumber(row.reserved);
      }
      // SQLite's one connection: the transaction keeps every other write out between the reads.
      return db.transaction().execute(async (trx) => (await storedBytes(tenantId, trx)) + toNumber((await reserved(trx)).bytes));
    },

    async reserveStorage({ tenantId, bytes, expiresAt, key }) {
      const id = key ?? `rsv_${randomBytes(12).toString('hex')}`;
      await db.deleteFrom('storage_reservations').where('tenant_id', '=', tenantId).where('expires_at', '<=', Date.now()).execute();
      await db.insertInto('storage_reservations').values({ id, tenant_id: tenantId, bytes, expires_at: expiresAt })
        .onConflict((oc) => oc.column('id').doUpdateSet({ tenant_id: tenantId, bytes, expires_at: expiresAt })).execute();
      return id;
    },

    async renewStorage(id, expiresAt) {
      await db.updateTable('storage_reservations').set({ expires_at: expiresAt }).where('id', '=', id).execute();
    },

    async releaseStorage(id) {
      await db.deleteFrom('storage_reservations').where('id', '=', id).execute();
    },

    async releaseAllStorage() {
      await db.deleteFrom('storage_reservations').execute();
    },
  };
}
