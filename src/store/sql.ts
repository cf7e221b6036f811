import type { Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import { ReamError } from '../errors.ts';
import type { JsonValue } from '../json.ts';

/**
 * The SQL dialects the Kysely-based adapters speak. Queries are written once; the few places
 * that differ (identity columns, `FOR UPDATE SKIP LOCKED`) branch on this.
 */
export type SqlFlavor = 'sqlite' | 'postgres';

/** JSON columns are text in every dialect (portable, and never queried into). */
export function toJsonText(value: JsonValue | object): string {
  return JSON.stringify(value);
}

export function fromJsonText<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function fromNullableJsonText<T>(text: string | null): T | null {
  return text === null ? null : fromJsonText<T>(text);
}

/**
 * Integers may come back as strings (PostgreSQL `bigint`, `count(*)`, `sum(…)`) or as `null`
 * (`sum` over no rows). Epoch ms fit a double exactly, so Number is safe.
 */
export function toNumber(value: string | number | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function toNullableNumber(value: string | number | bigint | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A migration that knows the dialect it runs on. Named migrations run once, in name order. */
export type FlavoredMigration = (db: Kysely<unknown>, flavor: SqlFlavor) => Promise<void>;

/**
 * Brings an adapter's tables up to date, idempotently. Each adapter keeps its own migration
 * table (`<owner>_migrations`) so store, queue and search can evolve (and be split into separate
 * databases) independently. Returns the migrations it applied, as `<owner>/<name>`.
 *
 * `schema` (PostgreSQL) names where the migration tables live. It must be given there: without
 * it Kysely looks for `<owner>_migrations` in every schema of the database, so a second ream
 * schema in the same database would be taken for migrated already.
 */
export async function migrate(
  db: Kysely<unknown>,
  owner: string,
  flavor: SqlFlavor,
  migrations: Record<string, FlavoredMigration>,
  schema?: string,
): Promise<string[]> {
  const provided: Record<string, Migration> = {};
  for (const [name, up] of Object.entries(migrations)) provided[name] = { up: (kysely: Kysely<unknown>) => up(kysely, flavor) };
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(provided) },
    migrationTableName: `${owner}_migrations`,
    migrationLockTableName: `${owner}_migrations_lock`,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    const reason = error instanceof Error ? `: ${error.message}` : '';
    const code = error instanceof ReamError ? error.code : 'internal';
    throw new ReamError(code, `${owner}: migration ${failed} failed${reason}`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => `${owner}/${result.migrationName}`);
}

/** A foreign key pointed nowhere: SQLite's extended code, or PostgreSQL's SQLSTATE 23503. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/** A page size from user input: whole, at least 1, at most `max`; `fallback` when absent or not a number. */
export function clampLimit(value: number | undefined, fallback: number, max: number): number {
  return value === undefined || !Number.isFinite(value) ? fallback : Math.min(Math.max(1, Math.floor(value)), max);
}
