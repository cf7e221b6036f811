// A job search among 200,000 jobs must read the search indexes (jobs/0004), never the whole
// table: how each database plans every statement listJobs runs, EXPLAINed with its parameters.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, sql, type KyselyPlugin, type Kysely, type RootOperationNode, type QueryId } from 'kysely';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import type { SqlFlavor } from '../../src/sql/dialect.ts';
import type { ListJobsQuery, Store } from '../../src/store/port.ts';
import { openSqlStore } from '../../src/store/sql-store.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

const JOBS = 200_000;

/** Records the statements run through it, to be EXPLAINed afterwards. */
class Recorder implements KyselyPlugin {
  readonly statements: Array<{ node: RootOperationNode; queryId: QueryId }> = [];
  transformQuery(args: { node: RootOperationNode; queryId: QueryId }): RootOperationNode {
    this.statements.push(args);
    return args.node;
  }
  transformResult<T>(args: { result: T }): Promise<T> {
    return Promise.resolve(args.result);
  }
}

interface Subject {
  flavor: SqlFlavor;
  kysely: Kysely<unknown>;
  store: Store;
  recorder: Recorder;
  close(): Promise<void>;
}

/** 200,000 jobs of random `job_<32 hex>` ids (as the engine's), in two tenants (t1 nine in ten), three pipelines. */
async function seed(subject: Subject): Promise<void> {
  const { kysely } = subject;
  if (subject.flavor === 'postgres') {
    await sql`insert into jobs (id, tenant_id, pipeline, options, priority, status, created_at)
      select 'job_' || md5(random()::text), case when i % 10 = 0 then 't2' else 't1' end, (array['pdf-text', 'ocr', 'tables'])[1 + i % 3], '{}', 0, 'succeeded', 1700000000000 + i
      from generate_series(1, ${JOBS}::int) as i`.execute(kysely);
    // What autovacuum does to a table of this size soon enough.
    await sql`analyze jobs`.execute(kysely);
  } else {
    await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${JOBS})
      insert into jobs (id, tenant_id, pipeline, options, priority, status, created_at)
      select 'job_' || lower(hex(randomblob(16))), case when i % 10 = 0 then 't2' else 't1' end, case i % 3 when 0 then 'pdf-text' when 1 then 'ocr' else 'tables' end, '{}', 0, 'succeeded', 1700000000000 + i
      from n`.execute(kysely);
  }
}

/** The plan of every statement `query` runs, one line per plan node. */
async function plansOf(subject: Subject, query: ListJobsQuery): Promise<string[]> {
  subject.recorder.statements.length = 0;
  await subject.store.listJobs(query);
  const lines: string[] = [];
  for (const { node, queryId } of subject.recorder.statements.splice(0)) {
    const compiled = subject.kysely.getExecutor().compileQuery(node, queryId);
    const explain = subject.flavor === 'postgres' ? 'explain' : 'explain query plan';
    const plan = await subject.kysely.executeQuery<Record<string, string>>(CompiledQuery.raw(`${explain} ${compiled.sql}`, [...compiled.parameters]));
    for (const row of plan.rows) lines.push(subject.flavor === 'postgres' ? String(row['QUERY PLAN']) : String(row.detail));
  }
  return lines;
}

/** A read of the whole jobs table: PostgreSQL's sequential scan, SQLite's SCAN (in no index's key order or in one). */
function scansJobs(flavor: SqlFlavor, line: string): boolean {
  return flavor === 'postgres' ? /Seq Scan on jobs\b/.test(line) : /^SCAN jobs\b/.test(line);
}

/** The first `length` characters of one of tenant t1's ids, and how many of its ids start so. */
async function startMatching(subject: Subject, length: number): Promise<{ start: string; matches: number }> {
  const { rows } = await sql<{ id: string }>`select id from jobs where tenant_id = 't1' order by id limit 1 offset 777`.execute(subject.kysely);
  const start = (rows[0]?.id ?? '').slice(0, length);
  const counted = await sql<{ n: number | string }>`select count(*) as n from jobs where tenant_id = 't1' and id like ${`${start}%`}`.execute(subject.kysely);
  return { start, matches: Number(counted.rows[0]?.n) };
}

const unavailable = await postgresUnavailable();
const flavors: Array<{ flavor: SqlFlavor; skip?: string; open: () => Promise<Subject> }> = [
  {
    flavor: 'sqlite',
    open: async () => {
      const database = openSqliteDatabase(':memory:');
      const recorder = new Recorder();
      const kysely = database.kysely.withPlugin(recorder);
      const store = await openSqlStore(kysely, 'sqlite');
      return { flavor: 'sqlite', kysely, store, recorder, close: () => database.close() };
    },
  },
  {
    flavor: 'postgres',
    ...(unavailable === undefined ? {} : { skip: unavailable }),
    open: async () => {
      const { database, drop } = await freshSchema(2);
      const recorder = new Recorder();
      const kysely = database.kysely.withPlugin(recorder);
      const store = await openSqlStore(kysely, 'postgres', database.schema);
      return { flavor: 'postgres', kysely, store, recorder, close: drop };
    },
  },
];

for (const { flavor, skip, open } of flavors) {
  void describe(`job search plans, ${flavor}, ${JOBS} jobs`, () => {
    let subject: Subject | undefined;
    before(async () => {
      if (skip !== undefined) return;
      subject = await open();
      await seed(subject);
    });
    after(() => subject?.close());

    void test('a tenant\'s search matching some hundreds of ids (more than are read whole at once) reads indexes, with its total', async (t) => {
      const seeded = subject;
      if (!requireOrSkip(t, seeded !== undefined, skip ?? '') || seeded === undefined) return;
      const { start, matches } = await startMatching(seeded, 6);
      assert.ok(matches > 500 && matches < 2_000, `${start}: ${matches} matches, not the middling density this case is about`);
      const page = await seeded.store.listJobs({ tenantId: 't1', search: start, total: true });
      assert.equal(page.items.length, 50);
      assert.deepEqual(page.total, { count: matches, exact: true });
      for (const order of ['newest', 'oldest'] as const) {
        const lines = await plansOf(seeded, { tenantId: 't1', search: start, order, total: true });
        assert.deepEqual(lines.filter((line) => scansJobs(flavor, line)), [], lines.join('\n'));
      }
    });

    void test('an admin\'s search of every tenant reads each tenant\'s indexes, with its total', async (t) => {
      const seeded = subject;
      if (!requireOrSkip(t, seeded !== undefined, skip ?? '') || seeded === undefined) return;
      const { start } = await startMatching(seeded, 7);
      const { rows } = await sql<{ id: string }>`select id from jobs where lower(id) like ${`${start}%`} order by created_at desc, id desc`.execute(seeded.kysely);
      const page = await seeded.store.listJobs({ search: start.toUpperCase(), limit: 500, total: true });
      assert.deepEqual(page.items.map((job) => job.id), rows.map((row) => row.id), 'the jobs of both tenants, newest first');
      assert.deepEqual(page.total, { count: rows.length, exact: true });
      for (const search of [start, 'TABLES']) {
        for (const order of ['newest', 'oldest'] as const) {
          const lines = await plansOf(seeded, { search, order, total: search === start });
          assert.deepEqual(lines.filter((line) => scansJobs(flavor, line)), [], `${search}, ${order}:\n${lines.join('\n')}`);
        }
      }
    });
  });
}
