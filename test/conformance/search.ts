import assert from 'node:assert/strict';
import type { SearchIndex } from '../../src/search/port.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { search: SearchIndex };

const ODD_INPUT = [
  '"foo AND (',
  'foo AND (bar OR',
  '*',
  'NEAR(a b',
  "it's",
  '"',
  "'; drop table x; --",
  '^foo',
  'col:foo',
  '-foo +bar',
  '(((',
  '',
  '   ',
  '🙂',
  'a'.repeat(5_000),
  Array.from({ length: 500 }, (_, i) => `w${i}`).join(' '),
];

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'a document indexed in parts: appendPages adds to it, removeDocument clears it, indexDocument replaces every part',
    async run({ search }) {
      await search.removeDocument('t1', 'big');
      await search.appendPages('t1', 'big', [{ page: 1, text: 'first row: apples' }, { page: 2, text: 'second row: pears' }]);
      await search.appendPages('t1', 'big', [{ page: 3, text: 'third row: apples again' }]);
      assert.deepEqual((await search.search({ tenantId: 't1', q: 'apples' })).map((h) => h.page).sort(), [1, 3]);
      assert.deepEqual(await search.search({ tenantId: 't2', q: 'apples' }), [], 'another tenant sees nothing');
      await search.indexDocument('t1', 'big', [{ page: 1, text: 'only plums now' }]);
      assert.deepEqual(await search.search({ tenantId: 't1', q: 'apples' }), []);
      await search.removeDocument('t1', 'big');
      assert.deepEqual(await search.search({ tenantId: 't1', q: 'plums' }), []);
      await assert.rejects(search.appendPages('t1', 'big', [{ page: 0, text: 'no page 0' }]));
    },
  },
  {
    name: 'finds pages by word, with « » around matches in the snippet',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [
        { page: 1, text: 'The quarterly invoice was paid in full.' },
        { page: 2, text: 'Nothing to see on this page.' },
        { page: 3, text: 'A second invoice arrived late.' },
      ]);
      const hits = await search.search({ tenantId: 't1', q: 'invoice' });
      assert.deepEqual(hits.map((h) => h.page).sort(), [1, 3]);
      for (const hit of hits) {
        assert.equal(hit.documentId, 'd1');
        assert.match(hit.snippet, /«invoice»/i);
        assert.equal(typeof hit.score, 'number');
        assert.ok(Number.isFinite(hit.score));
      }
    },
  },
  {
    name: 'all words must match, in any order and case',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [
        { page: 1, text: 'Payment terms: net thirty days.' },
        { page: 2, text: 'Payment received.' },
      ]);
      const hits = await search.search({ tenantId: 't1', q: 'DAYS payment' });
      assert.deepEqual(hits.map((h) => h.page), [1]);
    },
  },
  {
    name: 'words joined by punctuation (an invoice number, a date) must occur together, in that order',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [
        { page: 1, text: 'Invoice INV-B-1, 2 pages, issued to B. Smith.' },
        { page: 2, text: 'Invoice INV-B-2 issued 2024-05-06.' },
        { page: 3, text: 'See inv b 2 for details, dated 2024 06 05.' },
      ]);
      const invoice = (await search.search({ tenantId: 't1', q: 'INV-B-2' })).map((h) => h.page);
      // Page 3 holds the same words in a row, joined otherwise: an adapter may count it or not.
      assert.deepEqual(invoice.filter((page) => page !== 3), [2], 'page 1 has the words, not in a row');
      assert.deepEqual((await search.search({ tenantId: 't1', q: 'issued 2024-05-06' })).map((h) => h.page), [2]);
      assert.deepEqual((await search.search({ tenantId: 't1', q: 'INV B 2' })).map((h) => h.page).sort(), [1, 2, 3], 'apart, they are separate words');
    },
  },
  {
    name: 'search is tenant-scoped',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'confidential merger plan' }]);
      await search.indexDocument('t2', 'd2', [{ page: 1, text: 'public merger rumours' }]);
      assert.deepEqual((await search.search({ tenantId: 't1', q: 'merger' })).map((h) => h.documentId), ['d1']);
      assert.deepEqual((await search.search({ tenantId: 't2', q: 'merger' })).map((h) => h.documentId), ['d2']);
      assert.deepEqual(await search.search({ tenantId: 't3', q: 'merger' }), []);
      assert.deepEqual(await search.search({ tenantId: 't2', q: 'confidential' }), []);
    },
  },
  {
    name: 'indexing a document again replaces its pages',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'old words here' }, { page: 2, text: 'old again' }]);
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'fresh words here' }]);
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'fresh words here' }]);
      assert.deepEqual(await search.search({ tenantId: 't1', q: 'old' }), []);
      const hits = await search.search({ tenantId: 't1', q: 'fresh' });
      assert.equal(hits.length, 1, 'reindexing twice does not duplicate hits');
      await search.indexDocument('t1', 'd1', []);
      assert.deepEqual(await search.search({ tenantId: 't1', q: 'fresh' }), []);
    },
  },
  {
    name: 'removeDocument drops only that document of that tenant',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'shared term' }]);
      await search.indexDocument('t1', 'd2', [{ page: 1, text: 'shared term' }]);
      await search.indexDocument('t2', 'd1', [{ page: 1, text: 'shared term' }]);
      await search.removeDocument('t1', 'd1');
      await search.removeDocument('t1', 'never-indexed');
      assert.deepEqual((await search.search({ tenantId: 't1', q: 'shared' })).map((h) => h.documentId), ['d2']);
      assert.deepEqual((await search.search({ tenantId: 't2', q: 'shared' })).map((h) => h.documentId), ['d1']);
    },
  },
  {
    name: 'user input is plain words: operators and quotes never throw or change the query',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [
        { page: 1, text: 'foo and bar walk into a NEAR miss' },
        { page: 2, text: "it's raining" },
      ]);
      for (const q of ODD_INPUT) {
        const hits = await search.search({ tenantId: 't1', q });
        assert.ok(Array.isArray(hits), `query ${JSON.stringify(q.slice(0, 40))}`);
      }
      // Operators are words: "AND" must itself occur on the page.
      assert.deepEqual((await search.search({ tenantId: 't1', q: '"foo AND (' })).map((h) => h.page), [1]);
      assert.deepEqual((await search.search({ tenantId: 't1', q: 'foo OR raining' })), []);
      assert.deepEqual((await search.search({ tenantId: 't1', q: "it's" })).map((h) => h.page), [2]);
    },
  },
  {
    name: 'limit caps the hits, best first',
    async run({ search }) {
      const pages = Array.from({ length: 30 }, (_, i) => ({ page: i + 1, text: i === 7 ? 'needle needle needle' : `needle in haystack number ${i} with many other words around it` }));
      await search.indexDocument('t1', 'd1', pages);
      const hits = await search.search({ tenantId: 't1', q: 'needle', limit: 5 });
      assert.equal(hits.length, 5);
      assert.equal(hits[0]?.page, 8, 'the densest page ranks first');
      const scores = hits.map((h) => h.score);
      assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
      assert.equal((await search.search({ tenantId: 't1', q: 'needle' })).length, 20, 'default limit 20');
      assert.equal((await search.search({ tenantId: 't1', q: 'needle', limit: 1_000 })).length, 30);
    },
  },
  {
    name: 'matches ignore diacritics',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'Curriculum: Résumé of Zoë' }]);
      assert.equal((await search.search({ tenantId: 't1', q: 'resume zoe' })).length, 1);
      assert.equal((await search.search({ tenantId: 't1', q: 'RÉSUMÉ' })).length, 1);
    },
  },
];

/** Registers the search port's contract (src/search/port.ts) against one adapter. */
export function searchConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('search', name, make, cases, options);
}
