import { sql, type Generated, type Kysely } from 'kysely';
import type { FlavoredMigration } from '../sql/migrate.ts';
import { createRecordTables, type FilterTables } from './sql-filters.ts';

export interface SearchPagesTable {
  id: Generated<number>;
  tenant_id: string;
  document_id: string;
  /** 1-based. */
  page: number;
  text: string;
}

export type SearchTables = { search_pages: SearchPagesTable } & FilterTables;

/**
 * SQLite-only (FTS5). Pages live in a plain table indexed by (tenant, document), so reindexing
 * a document deletes by index instead of scanning the full-text table; `search_fts` is an
 * external-content FTS5 index over it, kept in step by triggers (the pattern in SQLite's FTS5
 * documentation, §4.4.3). `remove_diacritics 2` lets "resume" find "résumé".
 */
export const searchMigrations: Record<string, FlavoredMigration> = {
  '0001_initial': async (db: Kysely<unknown>) => {
    await db.schema
      .createTable('search_pages')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('document_id', 'text', (c) => c.notNull())
      .addColumn('page', 'integer', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('search_pages_document').on('search_pages').columns(['tenant_id', 'document_id']).execute();
    await sql`create virtual table search_fts using fts5(text, content='search_pages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`.execute(db);
    await sql`create trigger search_pages_ai after insert on search_pages begin
      insert into search_fts(rowid, text) values (new.id, new.text);
    end`.execute(db);
    await sql`create trigger search_pages_ad after delete on search_pages begin
      insert into search_fts(search_fts, rowid, text) values ('delete', old.id, old.text);
    end`.execute(db);
    await sql`create trigger search_pages_au after update on search_pages begin
      insert into search_fts(search_fts, rowid, text) values ('delete', old.id, old.text);
      insert into search_fts(rowid, text) values (new.id, new.text);
    end`.execute(db);
  },
  '0002_result_records': (db: Kysely<unknown>) => createRecordTables(db, 'integer'),
};
