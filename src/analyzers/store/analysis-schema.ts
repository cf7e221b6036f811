import type { ColumnType, Kysely } from 'kysely';
import type { FlavoredMigration } from '../../sql/migrate.ts';

export interface AnalysisCacheTable {
  key: string;
  /** JSON text. */
  value: string;
  created_at: number;
  /** 0003: whose document the answer is about (null: unknown, or cached before). */
  tenant_id: string | null;
  document_sha256: string | null;
}

export interface AnalysisUsageTable {
  job_id: string;
  tenant_id: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  calls: number;
  cached_calls: number;
}

export interface AnalysisBudgetsTable {
  job_id: string;
  spent: number;
  reserved: number;
  /** Epoch ms after which `reserved` is stale (0002): a process killed mid-call never settles its reservation. */
  reserved_until: ColumnType<number, number | undefined, number>;
  /** The budget (maxTokens) whose spending stopped the job's model calls (0004); null while none did. */
  stopped_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** Epoch ms of the job's latest reservation (0005): calls still reserving are alive. */
  reserved_at: ColumnType<number, number | undefined, number>;
}

export type AnalysisTables = {
  analysis_cache: AnalysisCacheTable;
  analysis_usage: AnalysisUsageTable;
  analysis_budgets: AnalysisBudgetsTable;
};

/**
 * The same tables on SQLite and PostgreSQL: counters are `bigint` (a tenant's tokens outgrow
 * 2^31), and nothing needs a dialect of its own. Usage is one row per (job, model), summed by
 * upsert, so a tenant's total is a `group by` over its jobs.
 */
export const analysisMigrations: Record<string, FlavoredMigration> = {
  '0001_initial': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('analysis_cache')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('analysis_usage')
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('prompt_tokens', 'bigint', (c) => c.notNull())
      .addColumn('completion_tokens', 'bigint', (c) => c.notNull())
      .addColumn('calls', 'bigint', (c) => c.notNull())
      .addColumn('cached_calls', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('analysis_usage_pk', ['job_id', 'model'])
      .execute();
    await db.schema.createIndex('analysis_usage_tenant').on('analysis_usage').column('tenant_id').execute();
    await db.schema
      .createTable('analysis_budgets')
      .addColumn('job_id', 'text', (c) => c.primaryKey())
      .addColumn('spent', 'bigint', (c) => c.notNull())
      .addColumn('reserved', 'bigint', (c) => c.notNull())
      .execute();
  },
  '0002_reservation_lease': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('analysis_budgets').addColumn('reserved_until', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  },
  // Whose document an answer is about, so that removing the document removes its answers (quotes,
  // summaries); rows cached before have none and stay until the cache is cleared.
  '0003_cache_owner': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('analysis_cache').addColumn('tenant_id', 'text').execute();
    await db.schema.alterTable('analysis_cache').addColumn('document_sha256', 'text').execute();
    await db.schema.createIndex('analysis_cache_document').on('analysis_cache').columns(['tenant_id', 'document_sha256']).execute();
  },
  // The budget a job's calls were stopped at, so the job can say why it stopped when it ends.
  '0004_budget_stop': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('analysis_budgets').addColumn('stopped_at', 'bigint').execute();
  },
  // When the job last reserved: a call waiting for room tells live calls from a dead worker's.
  '0005_reserved_at': async (db: Kysely<unknown>) => {
    await db.schema.alterTable('analysis_budgets').addColumn('reserved_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  },
};
