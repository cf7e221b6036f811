import { sql, type Generated, type Kysely } from 'kysely';
import { ReamError } from '../errors.ts';
import type { FlavoredMigration } from '../sql/migrate.ts';
import { createRecordTables, type FilterTables } from './sql-filters.ts';

export interface PostgresSearchPagesTable {
  id: Generated<number | string>;
  tenant_id: string;
  document_id: string;
  /** 1-based. */
  page: number;
  text: string;
}

export type PostgresSearchTables = { search_pages: PostgresSearchPagesTable } & FilterTables;

/**
 * The text search configuration of every index and query: the `simple` parser and dictionary
 * (no stemming, no stop words: any language indexes the same), behind `unaccent` so "resume"
 * finds "résumé".
 */
export const SEARCH_CONFIG = 'ream_search';

/**
 * The schema holding the `unaccent` extension, installed (into `public`) when missing. An
 * extension exists once per database, and a schema-local copy would vanish with its schema —
 * and take every other schema's configuration along — so it is shared, never schema-local.
 */
async function unaccentSchema(db: Kysely<unknown>): Promise<string> {
  const find = () =>
    sql<{ schema: string }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'unaccent'`
      .execute(db)
      .then((result) => result.rows[0]?.schema);
  const existing = await find();
  if (existing !== undefined) return existing;
  try {
    await sql`create extension if not exists unaccent schema public`.execute(db);
  } catch (error) {
    // Two processes installing it at once lose with a unique violation; the winner's extension will do.
    const raced = await find();
    if (raced !== undefined) return raced;
    throw ReamError.nonRetryable('internal', 'full-text search needs the PostgreSQL extension unaccent: have a database owner run `create extension unaccent schema public`', { cause: error });
  }
  return (await find()) ?? 'public';
}

/**
 * PostgreSQL-only (tsvector). `tsv` is generated from `text`, so reindexing is a plain
 * delete-and-insert; the GIN index answers `@@`, the (tenant, document) index the deletes.
 */
export const postgresSearchMigrations: Record<string, FlavoredMigration> = {
  '0001_initial': async (db: Kysely<unknown>) => {
    const unaccent = await unaccentSchema(db);
    await sql`create text search configuration ${sql.id(SEARCH_CONFIG)} (copy = simple)`.execute(db);
    await sql`alter text search configuration ${sql.id(SEARCH_CONFIG)}
      alter mapping for hword, hword_part, word with ${sql.id(unaccent, 'unaccent')}, simple`.execute(db);
    await db.schema
      .createTable('search_pages')
      .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('document_id', 'text', (c) => c.notNull())
      .addColumn('page', 'integer', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addColumn('tsv', sql`tsvector`, (c) =>
        c.generatedAlwaysAs(sql`to_tsvector(${sql.lit(SEARCH_CONFIG)}::regconfig, text)`).stored().notNull(),
      )
      .execute();
    await db.schema.createIndex('search_pages_document').on('search_pages').columns(['tenant_id', 'document_id']).execute();
    await db.schema.createIndex('search_pages_tsv').on('search_pages').using('gin').column('tsv').execute();
  },
  '0002_result_records': (db: Kysely<unknown>) => createRecordTables(db, 'bigint'),
};
