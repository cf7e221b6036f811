import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toFtsQuery } from '../../src/search/fts-query.ts';
import { SqliteSearch } from '../../src/search/sqlite-search.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { searchConformance } from '../conformance/search.ts';

searchConformance('SqliteSearch', async () => {
  const database = openSqliteDatabase(':memory:');
  const search = await SqliteSearch.open(database);
  return {
    search,
    async cleanup() {
      await search.close();
      await database.close();
    },
  };
});

void test('toFtsQuery quotes every term (a phrase when punctuation joins its words) and drops everything else', () => {
  assert.equal(toFtsQuery('"foo AND ('), '"foo" "and"');
  assert.equal(toFtsQuery('Zoë  zoë'), '"zoë"');
  assert.equal(toFtsQuery('*(-)'), undefined);
  assert.equal(toFtsQuery(''), undefined);
  assert.equal(toFtsQuery('INV-B-2 total "INV-b-2"'), '"inv b 2" "total"', 'words joined by punctuation are one phrase');
});
