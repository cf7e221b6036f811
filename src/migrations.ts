import { analysisMigrations } from './analyzers/store/analysis-schema.ts';
import { postgresSearchMigrations } from './search/postgres-search-schema.ts';
import type { PostgresDatabase } from './sql/postgres-database.ts';
import { migrate, migratePorts } from './sql/migrate.ts';
import { storeMigrations } from './store/sql-store.ts';

/**
 * Brings every port's tables in a PostgreSQL database's schema up to date: the store's, search's
 * and the analysis store's (model answers, usage, budgets) (what `ream migrate` runs; servers and
 * workers migrate what they open). The queue of
 * a distributed deployment is BullMQ on Redis: it has no tables.
 * Returns the migrations applied, as `<port>/<name>`, empty when none.
 */
export async function migrateAllPostgres(database: PostgresDatabase): Promise<string[]> {
  const { kysely, schema } = database;
  return [
    ...(await migratePorts(kysely, 'postgres', storeMigrations, schema)),
    ...(await migrate(kysely, 'search', 'postgres', postgresSearchMigrations, schema)),
    ...(await migrate(kysely, 'analysis', 'postgres', analysisMigrations, schema)),
  ];
}
