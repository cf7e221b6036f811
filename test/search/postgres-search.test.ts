import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PostgresSearch } from '../../src/search/postgres-search.ts';
import { searchConformance } from '../conformance/search.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { requireOrSkip } from '../support/env.ts';
import { postgresUnavailable } from '../support/services.ts';

const unavailable = await postgresUnavailable();

searchConformance(
  'PostgresSearch',
  async () => {
    const { database, drop } = await freshSchema();
    const search = await PostgresSearch.open(database);
    return {
      search,
      async cleanup() {
        await search.close();
        await drop();
      },
    };
  },
  { unavailable },
);

void test('PostgresSearch: snippets keep the page\'s own accents and mark the matched words', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { database, drop } = await freshSchema();
  try {
    const search = await PostgresSearch.open(database);
    await search.indexDocument('t1', 'd1', [{ page: 1, text: 'Curriculum: Résumé of Zoë, with a NUL\0inside' }]);
    const [hit] = await search.search({ tenantId: 't1', q: 'resume' });
    assert.ok(hit);
    assert.deepEqual(hit.matches.map((match) => hit.snippet.slice(match.start, match.end)), ['Résumé']);
  } finally {
    await drop();
  }
});
