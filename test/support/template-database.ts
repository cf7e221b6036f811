import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import pg from 'pg';
import { migrateAllPostgres } from '../../src/migrations.ts';
import { openPostgresDatabase } from '../../src/sql/postgres-database.ts';
import { repoRoot } from './env.ts';
import { TEST_DATABASE_URL } from './services.ts';

// Every cluster and distributed test starts on a database of its own, which its first `ream`
// process then migrated: forty-odd tables and their indexes, 1.5 to 2 s of PostgreSQL's work a
// database under load. A database copied from a migrated template (`create database … template`)
// costs 0.1 to 0.3 s more than an empty one.

/** Held while a test process looks for the template and, when it is missing, makes it. */
const TEMPLATE_LOCK = 7_304_190_213;

/** Where `migrateAllPostgres` is defined: the migrations it runs are made of this file's imports. */
const MIGRATIONS_ENTRY = 'src/migrations.ts';

/**
 * The template's name: a hash of the text of every source file `migrateAllPostgres` is made
 * of (its module and every module it imports, transitively), so that a template left on the
 * server by other code is never taken for this code's. The migrations' own code would not do:
 * seven of them are the same wrapper (`adoptingLegacy`) around the function that makes their
 * tables, and most call helpers of their module. `read` gives a file's text (repository-relative path).
 */
export function templateName(read: (path: string) => string = (path) => readFileSync(join(repoRoot, path), 'utf8')): string {
  const hash = createHash('sha256');
  const seen = new Set<string>();
  const pending = [MIGRATIONS_ENTRY];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path)) continue;
    seen.add(path);
    const text = read(path);
    hash.update(`${path}\n${text}\n`);
    for (const [, imported] of text.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)) {
      if (imported !== undefined) pending.push(relative(repoRoot, join(repoRoot, dirname(path), imported)));
    }
  }
  return `ream_test_template_${hash.digest('hex').slice(0, 16)}`;
}

/**
 * The name of a database that holds every port's tables in its `public` schema, migrated and
 * empty, for `create database … template` (PostgreSQL copies it, and refuses while anyone is
 * connected to it: nothing is, once it is made). Made by the first test process that asks, under
 * an advisory lock that the others wait for; flagged a template only once migrated, so one
 * whose making was cut short is made again.
 */
export async function migratedTemplate(admin: pg.Client): Promise<string> {
  const name = templateName();
  await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
  try {
    const { rows } = await admin.query<{ ready: boolean }>('select datistemplate as ready from pg_database where datname = $1', [name]);
    if (rows[0]?.ready === true) return name;
    if (rows.length > 0) await admin.query(`drop database "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const database = await openPostgresDatabase(url.toString(), { max: 1 });
    try {
      await migrateAllPostgres(database);
    } finally {
      await database.close();
    }
    await admin.query(`alter database "${name}" is_template true`);
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
  }
}
