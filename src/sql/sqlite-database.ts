import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

/**
 * The one SQLite database of a data dir, shared by the embedded store, queue and search.
 *
 * Rule: every query goes through `kysely`. There is a single connection, and Kysely guards it
 * with one mutex; a transaction holds that mutex across its awaits. A statement run on `sqlite`
 * directly while another adapter's transaction is open would silently join that transaction
 * (and vanish with its rollback), so `sqlite` is for pragmas, backups and diagnostics only.
 */
export interface SqliteDatabase {
  /** The file, or `:memory:`. */
  readonly path: string;
  readonly sqlite: Database.Database;
  readonly kysely: Kysely<unknown>;
  /** Closes the connection. Adapters built on it do not close it: whoever opened it does. */
  close(): Promise<void>;
}

export interface SqliteDatabaseOptions {
  /** How long a statement waits for a lock held by another connection, in ms. Default 5,000. */
  busyTimeoutMs?: number;
  /** Prepared statements kept for reuse, by SQL text. Default 256. */
  statementCacheSize?: number;
  /** WAL pages after which a commit checkpoints (`wal_autocheckpoint`). Default {@link CHECKPOINT_PAGES}. */
  checkpointPages?: number;
}

/**
 * 8,192 pages (32 MB) rather than SQLite's 1,000: a checkpoint syncs the WAL and the database
 * file, and it runs inside a commit, on the one thread that also hands work to the parsing
 * threads. A run that writes every page's text (results, checkpoints, search index) made a dozen
 * of them per 4,000 pages, each a stall of that thread on a busy disk; now one or two.
 */
export const CHECKPOINT_PAGES = 8192;

/**
 * Opens (creating if missing) the database in WAL mode: readers never block the writer, and
 * `synchronous = NORMAL` makes a commit an append to the WAL without an fsync — a power cut may
 * lose the last commits but never corrupts the file, which at-least-once tasks tolerate.
 * Foreign keys are on (SQLite's default is off).
 */
export function openSqliteDatabase(path: string, options: SqliteDatabaseOptions = {}): SqliteDatabase {
  const sqlite = new Database(path);
  try {
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    if (path !== ':memory:') sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(options.checkpointPages ?? CHECKPOINT_PAGES))}`);
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const kysely = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: cachingStatements(sqlite, options.statementCacheSize ?? 256) }),
  });
  let closing: Promise<void> | undefined;
  return {
    path,
    sqlite,
    kysely,
    close: () => (closing ??= kysely.destroy()),
  };
}

type KyselySqlite = ConstructorParameters<typeof SqliteDialect>[0]['database'];

/**
 * Kysely prepares every statement anew; preparing costs more than running a small indexed
 * statement, so the hot queue path reuses them. Query shapes are few (the SQL text carries no
 * values), and the cache is bounded (least recently used goes) for batch inserts whose text
 * varies with the row count.
 */
function cachingStatements(sqlite: Database.Database, size: number): KyselySqlite {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      // SQLite ends a transaction itself on some errors (SQLITE_FULL: a full disk). Kysely's
      // ROLLBACK after it would then fail ("no transaction is active") and replace that error
      // with its own: with no transaction open there is nothing to roll back.
      if (sql === 'rollback' && !sqlite.inTransaction) return noop(sqlite);
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= size) {
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

const noops = new WeakMap<Database.Database, Database.Statement>();

/** A statement that does nothing (`select 1`), in place of a ROLLBACK with no transaction open. */
function noop(sqlite: Database.Database): Database.Statement {
  let statement = noops.get(sqlite);
  if (!statement) noops.set(sqlite, (statement = sqlite.prepare('select 1')));
  return statement;
}
