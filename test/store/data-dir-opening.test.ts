// Data dirs a ream cannot use are refused in words, with a code of their own, never `internal`:
// one (or a PostgreSQL schema) a newer ream migrated (schema_too_new, naming the migrations), a
// file where its folder should be (validation_failed), a database file that is no database or is
// damaged (data_dir_damaged, with its path), a data dir or database file that cannot be written
// (validation_failed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { ReamError } from '../../src/errors.ts';
import { migrateAllPostgres } from '../../src/migrations.ts';
import { withLocalStore } from '../../src/runtime/local-store.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

const FUTURE = '9999_from_a_newer_ream';

function isTooNew(port: string, where: RegExp): (error: ReamError) => boolean {
  return (error) => {
    assert.ok(error instanceof ReamError, String(error));
    assert.equal(error.code, 'schema_too_new');
    assert.equal(error.retryable, false);
    assert.match(error.message, where);
    assert.match(error.message, new RegExp(`was migrated by a newer ream: its ${port} tables have migration\\(s\\) ${FUTURE}, which this ream does not know`));
    assert.deepEqual(error.details, { port, migrations: [FUTURE] });
    return true;
  };
}

test('a data dir a newer ream migrated is refused with schema_too_new, naming the migration', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-newer-'));
  try {
    const dataDir = join(dir, 'data');
    await (await createReam({ dataDir, threads: 1 })).close();
    const db = openSqliteDatabase(join(dataDir, 'ream.db'));
    await sql`insert into jobs_migrations (name, timestamp) values (${FUTURE}, '2030-01-01T00:00:00.000Z')`.execute(db.kysely);
    await db.close();
    await assert.rejects(createReam({ dataDir, threads: 1 }), isTooNew('jobs', /^the data dir was migrated/));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a PostgreSQL schema a newer ream migrated is refused with schema_too_new, naming the migration', async (t) => {
  const unavailable = await postgresUnavailable();
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const fresh = await freshSchema();
  try {
    await migrateAllPostgres(fresh.database);
    const { kysely, schema } = fresh.database;
    await sql`insert into ${sql.table(`${schema}.search_migrations`)} (name, timestamp) values (${FUTURE}, '2030-01-01T00:00:00.000Z')`.execute(kysely);
    await assert.rejects(migrateAllPostgres(fresh.database), isTooNew('search', new RegExp(`^the PostgreSQL schema ${schema} was migrated`)));
  } finally {
    await fresh.drop();
  }
});

test('a data dir where a file is, or whose database is no database or is damaged, is refused in words', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-unusable-'));
  try {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a folder');
    for (const dataDir of [file, join(file, 'below')]) {
      await assert.rejects(createReam({ dataDir, threads: 1 }), (error: ReamError) => {
        assert.equal(error.code, 'validation_failed');
        assert.match(error.message, new RegExp(`^the data dir ${dataDir} cannot be a folder: a file is in its place`));
        return true;
      });
    }

    const good = join(dir, 'good');
    await (await createReam({ dataDir: good, threads: 1 })).close();
    const bytes = await readFile(join(good, 'ream.db'));
    const cases: Array<[string, Buffer, RegExp]> = [
      ['noise', Buffer.alloc(8192, 7), /file is not a database/],
      ['cut', bytes.subarray(0, 8192), /database disk image is malformed/],
    ];
    for (const [name, content, said] of cases) {
      const dataDir = join(dir, name);
      await mkdir(dataDir);
      await writeFile(join(dataDir, 'ream.db'), content);
      const refused = (error: ReamError): boolean => {
        assert.equal(error.code, 'data_dir_damaged', `${name}: ${error.message}`);
        assert.equal(error.retryable, false);
        assert.ok(error.message.startsWith(`the data dir's database ${join(dataDir, 'ream.db')} is damaged or is not a ream database`), error.message);
        assert.match(error.message, said);
        assert.match(error.message, /restore it from a backup, or use another data dir$/);
        return true;
      };
      await assert.rejects(createReam({ dataDir, threads: 1 }), refused);
      await assert.rejects(withLocalStore({ dataDir }, () => Promise.resolve()), refused, 'the store alone (ream tenants, ream keys)');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * Makes `path` unwritable for this process: chmod for a user, `chattr +i` for root (whom file
 * modes do not stop). Answers how to undo it, or undefined when neither works here.
 */
function readOnly(path: string, folder: boolean): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    chmodSync(path, folder ? 0o555 : 0o444);
    return () => chmodSync(path, folder ? 0o755 : 0o644);
  }
  const attr = spawnSync('chattr', ['+i', path]);
  if (attr.status !== 0) return undefined;
  return () => void spawnSync('chattr', ['-i', path]);
}

test('a read-only data dir, or a read-only database file in one, is refused in words with validation_failed, not internal', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-read-only-'));
  try {
    const dataDir = join(dir, 'data');
    await (await createReam({ dataDir, threads: 1 })).close();
    const isUnwritable = (what: RegExp) => (error: ReamError): boolean => {
      assert.ok(error instanceof ReamError, String(error));
      assert.equal(error.code, 'validation_failed');
      assert.match(error.message, what);
      return true;
    };
    const undoFile = readOnly(join(dataDir, 'ream.db'), false);
    if (!requireOrSkip(t, undoFile !== undefined, 'no way to make a file read-only here (root without chattr)')) return;
    try {
      await assert.rejects(createReam({ dataDir, threads: 1 }), isUnwritable(/^the data dir's database .*ream\.db cannot be written \(.*readonly.*\): make it writable/));
    } finally {
      undoFile?.();
    }
    const undoFolder = readOnly(dataDir, true);
    try {
      await assert.rejects(createReam({ dataDir, threads: 1 }), isUnwritable(/^the data dir .*data cannot be written \(E(PERM|ACCES).*\); use a folder this user may write to/));
    } finally {
      undoFolder?.();
    }
    await (await createReam({ dataDir, threads: 1 })).close(); // writable again: opens as ever
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a data dir where no folder can be made (under /proc) is refused at once, naming it', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  // In a process of its own: a mkdir that loops would hang this one. Node's recursive mkdir retried /proc/x for ever.
  const script = `
    const { makeDataDir } = await import(${JSON.stringify(new URL('../../src/runtime/data-dir-lock.ts', import.meta.url).href)});
    for (const dataDir of ['/proc/ream-no-such', '/proc/ream-no-such/below']) {
      try { makeDataDir(dataDir); console.log('made ' + dataDir); } catch (error) { console.log(error.code + ' ' + error.message); }
    }`;
  const child = spawnSync(process.execPath, ['--experimental-strip-types', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  assert.equal(child.signal, null, 'the mkdir did not end');
  assert.deepEqual(child.stdout.trim().split('\n'), [
    "validation_failed the data dir /proc/ream-no-such cannot be made (ENOENT: no such file or directory, mkdir '/proc/ream-no-such'); use a folder this user may write to",
    "validation_failed the data dir /proc/ream-no-such/below cannot be made (ENOENT: no such file or directory, mkdir '/proc/ream-no-such'); use a folder this user may write to",
  ]);
});
