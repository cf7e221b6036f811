import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import { ReamError } from '../errors.ts';
import type { SqlFlavor } from './dialect.ts';
import { inSqliteWriteLock } from './sqlite-write-lock.ts';

/**
 * A migration that knows the dialect it runs on and, on PostgreSQL, the schema it migrates.
 * Named migrations run once, in name order.
 */
export type FlavoredMigration = (db: Kysely<unknown>, flavor: SqlFlavor, schema?: string) => Promise<void>;

/**
 * What a port declares, next to its adapter: its migrations, recorded in a ledger of its own
 * (`<port>_migrations`). Code-defined and append-only: never edit a migration that has shipped;
 * add the next one.
 */
export interface PortMigrations {
  readonly port: string;
  readonly migrations: Readonly<Record<string, FlavoredMigration>>;
}

/**
 * Brings one port's tables up to date, idempotently. Each port keeps its own ledger so ports can
 * evolve (and be split into separate databases) independently. Returns the migrations it applied,
 * as `<port>/<name>`.
 *
 * `schema` (PostgreSQL) names where the ledger lives. It must be given there: without it Kysely
 * looks for `<port>_migrations` in every schema of the database, so a second ream schema in the
 * same database would be taken for migrated already.
 */
export async function migrate(
  db: Kysely<unknown>,
  port: string,
  flavor: SqlFlavor,
  migrations: Readonly<Record<string, FlavoredMigration>>,
  schema?: string,
): Promise<string[]> {
  const provided: Record<string, Migration> = {};
  for (const [name, up] of Object.entries(migrations)) provided[name] = { up: (kysely: Kysely<unknown>) => up(kysely, flavor, schema) };
  if (!(await lacksMigrations(db, port, flavor, provided, schema))) return [];
  // Kysely takes no lock on SQLite (it assumes one connection per file): the file's write lock,
  // held from the ledger's check to the last migration, stands in for it.
  if (flavor === 'sqlite') {
    return inSqliteWriteLock(db, `migrating the ${port} tables`, async (connection) => {
      if (!(await lacksMigrations(connection, port, flavor, provided, schema))) return [];
      return migrateToLatest(connection, port, provided, schema);
    });
  }
  return migrateToLatest(db, port, provided, schema);
}

/**
 * Whether `port`'s ledger lacks some of `provided`: false when every one is recorded already.
 * Throws `schema_too_new` for a ledger that records migrations this code lacks.
 */
async function lacksMigrations(db: Kysely<unknown>, port: string, flavor: SqlFlavor, provided: Record<string, Migration>, schema: string | undefined): Promise<boolean> {
  // A ledger that records migrations this code lacks was written by a newer ream: its tables
  // may have columns and meanings this one does not know, so it is refused, not half-used.
  const recorded = await recordedMigrations(db, flavor, port, schema);
  const unknown = recorded.filter((name) => !Object.hasOwn(provided, name)).sort();
  if (unknown.length > 0) {
    const where = flavor === 'sqlite' ? 'the data dir' : `the PostgreSQL schema ${schema ?? '(the current one)'}`;
    throw ReamError.nonRetryable('schema_too_new', `${where} was migrated by a newer ream: its ${port} tables have migration(s) ${unknown.join(', ')}, which this ream does not know; run that newer ream (or a later one) on it`, {
      details: { port, migrations: unknown },
    });
  }
  // Every migration recorded already: nothing to do, so no need for the migrator, which looks for
  // its two tables by listing every table of the database with its columns and takes the lock.
  // Each `ream` process and every store opened migrates on start, so this is most starts.
  return !Object.keys(provided).every((name) => recorded.includes(name));
}

async function migrateToLatest(db: Kysely<unknown>, port: string, provided: Record<string, Migration>, schema: string | undefined): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(provided) },
    migrationTableName: `${port}_migrations`,
    migrationLockTableName: `${port}_migrations_lock`,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    const reason = error instanceof Error ? `: ${error.message}` : '';
    const code = error instanceof ReamError ? error.code : 'internal';
    throw new ReamError(code, `${port}: migration ${failed} failed${reason}`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => `${port}/${result.migrationName}`);
}

/**
 * Migrates several ports of one database, in the order given: a port whose tables reference
 * another's (foreign keys) comes after it. Returns what was applied, as `<port>/<name>`.
 */
export async function migratePorts(db: Kysely<unknown>, flavor: SqlFlavor, ports: readonly PortMigrations[], schema?: string): Promise<string[]> {
  const applied: string[] = [];
  for (const { port, migrations } of ports) applied.push(...(await migrate(db, port, flavor, migrations, schema)));
  return applied;
}

/** A migration recorded in a ledger that an earlier layout of the ports used. */
export interface LegacyMigration {
  /** The ledger's port name: its table is `<ledger>_migrations`. */
  ledger: string;
  name: string;
}

/**
 * Keeps databases made by an earlier ledger layout working. `up` creates what `legacy` created
 * once already (the same tables, split differently between ports); where the old ledger records
 * `legacy`, those tables exist, so the migration only gets recorded in its port's new ledger.
 * The check runs inside the port's migration (under its lock, in its transaction where the
 * dialect has transactional DDL), and the old ledger is never written again, so it cannot race.
 */
export function adoptingLegacy(legacy: LegacyMigration, up: FlavoredMigration): FlavoredMigration {
  return async (db, flavor, schema) => {
    if (await isRecorded(db, flavor, schema, legacy)) return;
    await up(db, flavor, schema);
  };
}

/** The ledger `<ledger>_migrations` as a table reference, or undefined when it does not exist yet. */
async function ledgerTable(db: Kysely<unknown>, flavor: SqlFlavor, schema: string | undefined, ledger: string): Promise<ReturnType<typeof sql.table> | undefined> {
  const table = `${ledger}_migrations`;
  // Looked up in this schema only: another ream schema's ledger in the same database says nothing here.
  const inSchema = schema === undefined ? sql`current_schema()` : sql`${schema}`;
  const exists =
    flavor === 'sqlite'
      ? await sql`select 1 from sqlite_master where type = 'table' and name = ${table}`.execute(db)
      : await sql`select 1 from pg_tables where schemaname = ${inSchema} and tablename = ${table}`.execute(db);
  if (exists.rows.length === 0) return undefined;
  return flavor === 'postgres' && schema !== undefined ? sql.table(`${schema}.${table}`) : sql.table(table);
}

async function isRecorded(db: Kysely<unknown>, flavor: SqlFlavor, schema: string | undefined, legacy: LegacyMigration): Promise<boolean> {
  const ledger = await ledgerTable(db, flavor, schema, legacy.ledger);
  if (ledger === undefined) return false;
  const recorded = await sql`select 1 from ${ledger} where name = ${legacy.name}`.execute(db);
  return recorded.rows.length > 0;
}

/** The migrations `port`'s ledger records (none when it has no ledger yet). */
async function recordedMigrations(db: Kysely<unknown>, flavor: SqlFlavor, port: string, schema: string | undefined): Promise<string[]> {
  const ledger = await ledgerTable(db, flavor, schema, port);
  if (ledger === undefined) return [];
  const { rows } = await sql<{ name: string }>`select name from ${ledger}`.execute(db);
  return rows.map((row) => row.name);
}
