import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { prepareQuery } from '../../src/sql/prepared-query.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';

type Tables = {
  notes: { id: number; owner: string; body: string; seen: number };
};

async function notes(): Promise<{ db: Kysely<Tables>; close: () => Promise<void> }> {
  const database = openSqliteDatabase(':memory:');
  const db = database.kysely.withTables<Tables>();
  await sql`create table notes (id integer primary key, owner text not null, body text not null, seen integer not null default 0)`.execute(db);
  await db.insertInto('notes').values([
    { id: 1, owner: 'ann', body: 'first', seen: 0 },
    { id: 2, owner: 'ann', body: 'second', seen: 0 },
    { id: 3, owner: 'bob', body: 'third', seen: 0 },
  ]).execute();
  return { db, close: () => database.close() };
}

void test('a prepared query is built once and runs with each call\'s values, also inside a transaction', async () => {
  const { db, close } = await notes();
  try {
    let builds = 0;
    const byOwner = prepareQuery(db, 2, (db, owner: string, after: number) => {
      builds++;
      // Constants of the builder (the order, the limit) stay as they were built.
      return db.selectFrom('notes').select(['id', 'body']).where('owner', '=', owner).where('id', '>', after).orderBy('id').limit(10);
    });
    assert.deepEqual((await byOwner.execute(['ann', 0])).rows, [{ id: 1, body: 'first' }, { id: 2, body: 'second' }]);
    assert.deepEqual((await byOwner.execute(['ann', 1])).rows, [{ id: 2, body: 'second' }]);
    assert.deepEqual(await byOwner.takeFirst(['bob', 0]), { id: 3, body: 'third' });
    assert.equal(await byOwner.takeFirst(['carl', 0]), undefined);

    const see = prepareQuery(db, 2, (db, id: number, seen: number) => db.updateTable('notes').set({ seen }).where('id', '=', id).returning(['id', 'seen']));
    await assert.rejects(db.transaction().execute(async (trx) => {
      assert.deepEqual(await see.takeFirst([3, 7], trx), { id: 3, seen: 7 });
      throw new Error('roll back');
    }), /roll back/);
    assert.deepEqual(await db.selectFrom('notes').select('seen').where('id', '=', 3).executeTakeFirst(), { seen: 0 }, 'ran in the transaction, rolled back with it');
    const touch = prepareQuery(db, 1, (db, id: number) => db.updateTable('notes').set({ seen: 1 }).where('id', '=', id));
    assert.equal((await touch.execute([2])).numAffectedRows, 1n);
    assert.equal((await touch.execute([9])).numAffectedRows, 0n);
    assert.equal(builds, 1, 'built and compiled once');
    assert.deepEqual(await db.selectFrom('notes').select(['id', 'seen']).orderBy('id').execute(), [{ id: 1, seen: 0 }, { id: 2, seen: 1 }, { id: 3, seen: 0 }]);
  } finally {
    await close();
  }
});

void test('a builder that does not pass each argument through as a value is refused at its first run', async () => {
  const { db, close } = await notes();
  try {
    const ignores = prepareQuery(db, 1, (db, _owner: string) => db.selectFrom('notes').selectAll().where('owner', '=', 'ann'));
    await assert.rejects(ignores.execute(['bob']), /must use each of its 1 arguments as a value/);
    const asText = prepareQuery(db, 1, (db, owner: string) => db.selectFrom('notes').selectAll().where(sql.raw<boolean>(`owner = '${owner}'`)));
    await assert.rejects(asText.execute(['bob']), /used an argument as SQL text/);
  } finally {
    await close();
  }
});
