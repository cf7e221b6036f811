import { sql, type Kysely } from 'kysely';
import type { Int } from '../sql/columns.ts';
import type { SqlFlavor } from '../sql/dialect.ts';

/**
 * The bytes each tenant has stored (its `storageBytes` quota counts them): its live documents,
 * and its jobs' report files, each content once however many of its jobs made it. PostgreSQL
 * only (0003): kept by triggers in the very transaction that adds or removes a document or a
 * report record, so it is exact in every process of the deployment and reading it is one row,
 * where summing the tenant's records for each report file of a big job made the job quadratic.
 */
export interface TenantStoredBytesTable {
  tenant_id: string;
  bytes: Int;
}

export type StoredBytesTables = { tenant_stored_bytes: TenantStoredBytesTable };

/**
 * The counter, its triggers, and its backfill from the records, in the migration's transaction.
 * The triggers are made first: each locks its table until the commit, so no write of another
 * process falls between the backfill's reading and the triggers' counting.
 *
 * Each trigger first takes the tenant's counter row (an upsert), which orders every change of
 * one tenant's bytes: a report file is counted only when no other job of the tenant holds the
 * same content, and that look, made after the lock, sees what the change before it committed.
 * A job's report files are uncounted before its deletion (a row trigger on `jobs`): its
 * `job_artifacts` rows then go by the cascade, when the job's tenant can no longer be read.
 * `search_path from current`: the functions find the tables of the schema they were made in.
 * (0005 replaced the row trigger on `job_artifacts` by a statement trigger: countArtifactsPerStatement.)
 */
export async function addTenantStoredBytes(db: Kysely<unknown>, flavor: SqlFlavor): Promise<void> {
  // SQLite has one process writing (embedded): it sums the records (see RecentStorageUse).
  if (flavor !== 'postgres') return;
  await db.schema
    .createTable('tenant_stored_bytes')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .execute();
  // A report file's content is looked for among the tenant's jobs: by content first (an index).
  await sql`
    create function ream_add_stored_bytes(tenant text, delta bigint) returns void language plpgsql set search_path from current as $$
    begin
      insert into tenant_stored_bytes (tenant_id, bytes) values (tenant, delta)
        on conflict (tenant_id) do update set bytes = tenant_stored_bytes.bytes + excluded.bytes;
    end $$`.execute(db);
  await sql`
    create function ream_document_stored_bytes() returns trigger language plpgsql set search_path from current as $$
    declare
      before_bytes bigint := 0;
      after_bytes bigint := 0;
    begin
      if tg_op <> 'INSERT' and old.deleted_at is null then before_bytes := old.size; end if;
      if tg_op <> 'DELETE' and new.deleted_at is null then after_bytes := new.size; end if;
      if tg_op <> 'INSERT' and tg_op <> 'DELETE' and old.tenant_id <> new.tenant_id then
        perform ream_add_stored_bytes(old.tenant_id, -before_bytes);
        before_bytes := 0;
      end if;
      if after_bytes <> before_bytes then
        perform ream_add_stored_bytes(coalesce(new.tenant_id, old.tenant_id), after_bytes - before_bytes);
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create function ream_artifact_stored_bytes() returns trigger language plpgsql set search_path from current as $$
    declare
      tenant text;
    begin
      select tenant_id into tenant from jobs where id = new.job_id;
      perform ream_add_stored_bytes(tenant, 0);
      if not exists (
        select 1 from job_artifacts a join jobs j on j.id = a.job_id
        where a.sha256 = new.sha256 and j.tenant_id = tenant and a.job_id <> new.job_id
      ) then
        perform ream_add_stored_bytes(tenant, new.size);
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create function ream_job_stored_bytes() returns trigger language plpgsql set search_path from current as $$
    begin
      perform ream_add_stored_bytes(old.tenant_id, 0);
      perform ream_add_stored_bytes(old.tenant_id, -coalesce((
        select sum(a.size) from job_artifacts a
        where a.job_id = old.id and not exists (
          select 1 from job_artifacts o join jobs j on j.id = o.job_id
          where o.sha256 = a.sha256 and j.tenant_id = old.tenant_id and o.job_id <> old.id
        )
      ), 0)::bigint);
      return old;
    end $$`.execute(db);
  await sql`create trigger documents_stored_bytes after insert or update of size, deleted_at, tenant_id or delete on documents for each row execute function ream_document_stored_bytes()`.execute(db);
  await sql`create trigger job_artifacts_stored_bytes after insert on job_artifacts for each row execute function ream_artifact_stored_bytes()`.execute(db);
  await sql`create trigger jobs_stored_bytes before delete on jobs for each row execute function ream_job_stored_bytes()`.execute(db);
  await sql`
    insert into tenant_stored_bytes (tenant_id, bytes)
    select tenant_id, sum(bytes) from (
      select tenant_id, size as bytes from documents where deleted_at is null
      union all
      select j.tenant_id, max(a.size) from job_artifacts a join jobs j on j.id = a.job_id group by j.tenant_id, a.sha256
    ) stored group by tenant_id`.execute(db);
}

/**
 * Report files are counted once per statement (0005), where 0003 counted them once per row: each
 * row moved the tenant's counter twice, and a job storing 20,000 report files in one transaction
 * left a chain of 40,000 versions of that one row, each upsert walking it (33 s for 20,000 rows).
 *
 * The statement's new rows (`added`, without those its `on conflict do nothing` skipped) are
 * counted as 0003 counted them, in one look: a content is counted when no job of the tenant held
 * it before the statement, and once however many of the statement's rows hold it (0003 counted
 * none of them when the statement gave it to two jobs). The tenants' counter rows are taken first,
 * in tenant order (no two statements take two tenants' rows in opposite orders), and the look
 * after them sees what the change before it committed, as 0003's did.
 */
export async function countArtifactsPerStatement(db: Kysely<unknown>, flavor: SqlFlavor): Promise<void> {
  if (flavor !== 'postgres') return;
  await sql`
    create function ream_artifacts_stored_bytes() returns trigger language plpgsql set search_path from current as $$
    declare
      tenant text;
    begin
      for tenant in select distinct j.tenant_id from added a join jobs j on j.id = a.job_id order by 1 loop
        perform ream_add_stored_bytes(tenant, 0);
      end loop;
      insert into tenant_stored_bytes (tenant_id, bytes)
      select fresh.tenant_id, sum(fresh.size) from (
        select j.tenant_id, a.sha256, max(a.size) as size, array_agg(a.job_id) as jobs
        from added a join jobs j on j.id = a.job_id group by j.tenant_id, a.sha256
      ) fresh
      left join lateral (
        select true as held from job_artifacts o join jobs oj on oj.id = o.job_id
        where o.sha256 = fresh.sha256 and oj.tenant_id = fresh.tenant_id and o.job_id <> all (fresh.jobs)
        limit 1
      ) earlier on true
      where earlier.held is null
      group by fresh.tenant_id
      on conflict (tenant_id) do update set bytes = tenant_stored_bytes.bytes + excluded.bytes;
      return null;
    end $$`.execute(db);
  await sql`drop trigger job_artifacts_stored_bytes on job_artifacts`.execute(db);
  await sql`drop function ream_artifact_stored_bytes()`.execute(db);
  await sql`create trigger job_artifacts_stored_bytes after insert on job_artifacts referencing new table as added for each statement execute function ream_artifacts_stored_bytes()`.execute(db);
}
