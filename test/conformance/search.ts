import assert from 'node:assert/strict';
import type { SearchFilters, SearchHit, SearchIndex } from '../../src/search/port.ts';
import { MATCH_END, MATCH_START } from '../../src/search/snippet-marks.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
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
  Array.from({ length: 32 }, (_, i) => `w${i}`).join(' '), // the most words a query may have (more: validation_failed)
];

/**
 * Tenant t1: d1 (PDF) indexed by job j1 at 1000 and again by j3 at 5000 (other field values),
 * d2 (PNG) and d3 (PDF) by j2, d4 with pages but no record; tenant t2: d9, by a job also named
 * j1, with d1's field values. Every page holds "alpha".
 */
async function indexFilterFixture(search: SearchIndex): Promise<void> {
  await search.indexDocument('t1', 'd1', [{ page: 2, text: 'alpha page two' }, { page: 1, text: 'alpha invoice page one' }]);
  await search.recordResult('t1', 'd1', { jobId: 'j1', mediaType: 'application/pdf', indexedAt: 1000, fields: { invoice: [{ value: 'INV-1' }], customer: [{ value: 'ACME Corp' }] } });
  await search.recordResult('t1', 'd1', { jobId: 'j3', mediaType: 'application/pdf', indexedAt: 5000, fields: { invoice: [{ value: 'INV-9' }] } });
  await search.indexDocument('t1', 'd2', [{ page: 1, text: 'alpha scanned invoice' }]);
  await search.recordResult('t1', 'd2', { jobId: 'j2', mediaType: 'image/png', indexedAt: 2000, fields: { invoice: [{ value: 'INV-2' }, { value: 'inv-2' }] } });
  await search.indexDocument('t1', 'd3', [{ page: 1, text: 'alpha, a plain letter' }]);
  await search.recordResult('t1', 'd3', { jobId: 'j2', mediaType: 'application/pdf', indexedAt: 3000, fields: {} });
  await search.indexDocument('t1', 'd4', [{ page: 1, text: 'alpha without a record' }]);
  await search.indexDocument('t2', 'd9', [{ page: 1, text: 'alpha invoice of another tenant' }]);
  await search.recordResult('t2', 'd9', { jobId: 'j1', mediaType: 'application/pdf', indexedAt: 1000, fields: { invoice: [{ value: 'INV-1' }] } });
}

/** The documents of the hits for `q` with `filters`, sorted (tenant t1 unless named). */
async function documentsFound(search: SearchIndex, q: string, filters: SearchFilters, tenantId = 't1'): Promise<string[]> {
  return [...new Set((await search.search({ tenantId, q, filters })).map((hit) => hit.documentId))].sort();
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'offset pages through every hit, in one order, with words or filters alone',
    async run({ search }) {
      await search.indexDocument('t1', 'big', Array.from({ length: 130 }, (_, i) => ({ page: i + 1, text: `quire leaf ${i + 1}` })));
      for (let i = 0; i < 130; i++) {
        await search.indexDocument('t1', `doc-${String(i).padStart(3, '0')}`, [{ page: 1, text: `folio ${i}` }]);
        await search.recordResult('t1', `doc-${String(i).padStart(3, '0')}`, { jobId: 'jp', mediaType: 'application/pdf', indexedAt: 1000 + i, fields: {} });
      }
      const all = async (query: { q: string; filters?: SearchFilters }): Promise<string[]> => {
        const seen: string[] = [];
        // Bounded: a search that ignored the offset would answer 100 hits for ever.
        for (let offset = 0; offset < 1000; offset += 100) {
          const hits = await search.search({ tenantId: 't1', ...query, limit: 100, offset });
          seen.push(...hits.map((hit) => `${hit.documentId}#${hit.page}`));
          if (hits.length < 100) break;
        }
        return seen;
      };
      const pages = await all({ q: 'quire' });
      assert.equal(pages.length, 130, 'past the first 100');
      assert.equal(new Set(pages).size, 130, 'no hit twice');
      const browsed = await all({ q: '', filters: { jobId: 'jp' } });
      assert.equal(new Set(browsed).size, 130);
      assert.equal(browsed[0], 'doc-129#1', 'newest first, on the first page');
      assert.equal(browsed.at(-1), 'doc-000#1', 'and the oldest on the last');
      assert.deepEqual(await search.search({ tenantId: 't1', q: 'quire', offset: 500 }), [], 'past the end: none');
    },
  },
  {
    name: 'filters: job, media type (exact or family), indexed time and field values, each alone',
    async run({ search }) {
      await indexFilterFixture(search);
      const found = (filters: SearchFilters) => documentsFound(search, 'alpha', filters);
      assert.deepEqual(await found({}), ['d1', 'd2', 'd3', 'd4'], 'no filter: every page with the word');
      assert.deepEqual(await found({ jobId: 'j1' }), ['d1']);
      assert.deepEqual(await found({ jobId: 'j2' }), ['d2', 'd3']);
      assert.deepEqual(await found({ jobId: 'nope' }), []);
      assert.deepEqual(await found({ mediaType: 'pdf' }), ['d1', 'd3']);
      assert.deepEqual(await found({ mediaType: 'image' }), ['d2']);
      assert.deepEqual(await found({ mediaType: 'IMAGE/PNG' }), ['d2'], 'an exact type, any case');
      assert.deepEqual(await found({ mediaType: 'application/pdf' }), ['d1', 'd3']);
      assert.deepEqual(await found({ mediaType: 'sheet' }), []);
      assert.deepEqual(await found({ from: 2000 }), ['d1', 'd2', 'd3'], 'd1 by j3 at 5000; from is inclusive');
      assert.deepEqual(await found({ to: 1500 }), ['d1']);
      assert.deepEqual(await found({ from: 1500, to: 2000 }), ['d2'], 'to is inclusive');
      assert.deepEqual(await found({ fields: [{ name: 'invoice', value: 'inv-1' }] }), ['d1'], 'values compare case-insensitively');
      assert.deepEqual(await found({ fields: [{ name: 'INVOICE', value: ' INV-2 ' }] }), ['d2'], 'names too; spaces around are trimmed');
      assert.deepEqual(await found({ fields: [{ name: 'customer', value: 'acme corp' }] }), ['d1']);
      assert.deepEqual(await found({ fields: [{ name: 'customer', value: 'acme' }] }), [], 'the whole value, not a part');
      assert.deepEqual(await found({ fields: [{ name: 'client', value: 'ACME Corp' }] }), [], 'under that name only');
    },
  },
  {
    name: 'filters combine: one job\'s record of the document must satisfy them all',
    async run({ search }) {
      await indexFilterFixture(search);
      const found = (filters: SearchFilters) => documentsFound(search, 'alpha', filters);
      assert.deepEqual(await found({ jobId: 'j1', fields: [{ name: 'invoice', value: 'INV-1' }] }), ['d1']);
      assert.deepEqual(await found({ jobId: 'j1', fields: [{ name: 'invoice', value: 'INV-9' }] }), [], 'INV-9 is what j3 found, not j1');
      assert.deepEqual(await found({ jobId: 'j3', fields: [{ name: 'invoice', value: 'INV-9' }] }), ['d1']);
      assert.deepEqual(await found({ jobId: 'j2', mediaType: 'pdf' }), ['d3']);
      assert.deepEqual(await found({ mediaType: 'pdf', from: 4000 }), ['d1']);
      assert.deepEqual(await found({ jobId: 'j1', from: 4000 }), [], 'j1 indexed d1 at 1000');
      assert.deepEqual(await found({ fields: [{ name: 'invoice', value: 'INV-1' }, { name: 'customer', value: 'ACME Corp' }] }), ['d1']);
      assert.deepEqual(await found({ fields: [{ name: 'invoice', value: 'INV-1' }, { name: 'invoice', value: 'INV-9' }] }), [], 'two jobs\' values are not one result');
      const pages = await search.search({ tenantId: 't1', q: 'invoice', filters: { jobId: 'j1' } });
      assert.deepEqual(pages.map((hit) => [hit.documentId, hit.page]), [['d1', 1]], 'words and filters together');
      assert.deepEqual(pages[0] && matched(pages[0]).map((word) => word.toLowerCase()), ['invoice']);
    },
  },
  {
    name: 'filters never reach another tenant\'s documents, even under the same job id',
    async run({ search }) {
      await indexFilterFixture(search);
      assert.deepEqual(await documentsFound(search, 'alpha', { jobId: 'j1' }, 't2'), ['d9']);
      assert.deepEqual(await documentsFound(search, 'invoice', { fields: [{ name: 'invoice', value: 'INV-1' }] }), ['d1']);
      assert.deepEqual(await documentsFound(search, '', { jobId: 'j1' }), ['d1']);
      assert.deepEqual(await documentsFound(search, '', { mediaType: 'pdf' }, 't3'), []);
      assert.deepEqual(await documentsFound(search, 'alpha', { jobId: 'j1' }, 't3'), []);
    },
  },
  {
    name: 'with filters and no words: the first page of each matching document, newest first',
    async run({ search }) {
      await indexFilterFixture(search);
      const hits = await search.search({ tenantId: 't1', q: '', filters: { mediaType: 'pdf' } });
      assert.deepEqual(hits.map((hit) => [hit.documentId, hit.page]), [['d1', 1], ['d3', 1]], 'd1 (newest record 5000) before d3 (3000), each at its first page');
      assert.equal(hits[0]?.snippet, 'alpha invoice page one', 'the page\'s opening words');
      assert.deepEqual(hits[0]?.matches, [], 'nothing marked');
      assert.deepEqual(hits.map((hit) => hit.score), [0, 0]);
      assert.deepEqual((await search.search({ tenantId: 't1', q: '  ', filters: { mediaType: 'pdf' }, limit: 1 })).map((hit) => hit.documentId), ['d1']);
      assert.deepEqual(await search.search({ tenantId: 't1', q: '' }), [], 'no words and no filter: nothing');
      assert.deepEqual(await search.search({ tenantId: 't1', q: '', filters: { fields: [] } }), [], 'an empty field list is no filter');
    },
  },
  {
    name: 'recordResult replaces that job\'s record only; reindexing pages keeps records; removeDocument drops them',
    async run({ search }) {
      await indexFilterFixture(search);
      const found = (filters: SearchFilters) => documentsFound(search, '', filters);
      await search.recordResult('t1', 'd1', { jobId: 'j1', mediaType: 'application/pdf', indexedAt: 1000, fields: { invoice: [{ value: 'INV-7' }, { value: 'x'.repeat(201) }] } });
      assert.deepEqual(await found({ fields: [{ name: 'invoice', value: 'INV-1' }] }), [], 'j1\'s earlier values are gone');
      assert.deepEqual(await found({ fields: [{ name: 'invoice', value: 'INV-7' }] }), ['d1']);
      assert.deepEqual(await found({ fields: [{ name: 'invoice', value: 'x'.repeat(201) }] }), [], 'values over 200 characters are not recorded');
      assert.deepEqual(await found({ fields: [{ name: 'invoice', value: 'INV-9' }] }), ['d1'], 'j3\'s record stands');
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'beta replaced text' }]);
      assert.deepEqual(await documentsFound(search, 'beta', { jobId: 'j1' }), ['d1'], 'new pages, same records');
      await search.removeDocument('t1', 'd1');
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'beta again' }]);
      assert.deepEqual(await documentsFound(search, 'beta', { jobId: 'j1' }), [], 'removeDocument dropped every job\'s record');
      assert.deepEqual(await documentsFound(search, 'beta', {}), ['d1']);
      assert.deepEqual(await documentsFound(search, 'alpha', { jobId: 'j1' }, 't2'), ['d9'], 'another tenant\'s d9 untouched');
    },
  },
  {
    name: 'forgetJob drops that job\'s records in that tenant only; the pages stay',
    async run({ search }) {
      await indexFilterFixture(search);
      await search.forgetJob('t1', 'j1');
      await search.forgetJob('t1', 'never-ran');
      assert.deepEqual(await documentsFound(search, 'alpha', { jobId: 'j1' }), []);
      assert.deepEqual(await documentsFound(search, 'alpha', { fields: [{ name: 'invoice', value: 'INV-1' }] }), [], 'its field values went with it');
      assert.deepEqual(await documentsFound(search, 'alpha', { jobId: 'j3' }), ['d1'], 'another job\'s record of the same document stays');
      assert.deepEqual(await documentsFound(search, 'alpha', {}), ['d1', 'd2', 'd3', 'd4'], 'every page is still found by its words');
      assert.deepEqual(await documentsFound(search, '', { jobId: 'j1' }, 't2'), ['d9'], 'the same job id in another tenant is untouched');
    },
  },
  {
    name: 'filters that mean nothing are refused with validation_failed',
    async run({ search }) {
      const bad: Array<[SearchFilters, RegExp]> = [
        [{ mediaType: 'spreadsheet' }, /type must be a media type .* or one of pdf, image/],
        [{ from: Number.NaN }, /from must be a time/],
        [{ to: 1.5 }, /to must be a time/],
        [{ from: 2000, to: 1000 }, /from must not be after to/],
        [{ jobId: ' ' }, /job must not be empty/],
        [{ fields: [{ name: ' ', value: 'x' }] }, /needs a name/],
        [{ fields: [{ name: 'invoice', value: '' }] }, /needs a value/],
        [{ fields: Array.from({ length: 11 }, (_, i) => ({ name: 'n', value: String(i) })) }, /at most 10/],
      ];
      for (const [filters, message] of bad) await rejectsWithCode(search.search({ tenantId: 't1', q: 'alpha', filters }), 'validation_failed', message);
    },
  },
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
    name: 'finds pages by word, with the matches\' offsets in the snippet',
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
        assert.deepEqual(matched(hit), ['invoice']);
        assert.equal(hit.snippet.replace(/[«»]/g, ''), hit.snippet, 'nothing added to the page\'s text');
        assert.ok(!hit.snippet.includes(MATCH_START) && !hit.snippet.includes(MATCH_END));
        assert.equal(typeof hit.score, 'number');
        assert.ok(Number.isFinite(hit.score));
      }
    },
  },
  {
    name: 'a page that holds « » itself: its snippet keeps them as text, and only the matched words are matches',
    async run({ search }) {
      await search.indexDocument('t1', 'fr', [{ page: 1, text: 'Il a écrit « facture payée » puis «reçu» sur la facture du mois.' }]);
      const [hit] = await search.search({ tenantId: 't1', q: 'facture' });
      assert.ok(hit);
      assert.match(hit.snippet, /« facture payée » puis «reçu» sur la facture/, 'the page\'s own « » as they are');
      assert.deepEqual(matched(hit), ['facture', 'facture'], 'both words, and nothing between the page\'s « »');
      // Mark characters in a page are no marks: the text is indexed without them.
      await search.indexDocument('t1', 'ctl', [{ page: 1, text: 'a \u0002receipt\u0003 and a receipt' }]);
      const [control] = await search.search({ tenantId: 't1', q: 'receipt' });
      assert.ok(control);
      assert.ok(!control.snippet.includes(MATCH_START) && !control.snippet.includes(MATCH_END));
      assert.deepEqual(matched(control), ['receipt', 'receipt']);
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
    name: 'a tenant\'s hits and scores do not depend on what other tenants have indexed',
    async run({ search }) {
      await search.indexDocument('t2', 'g1', [{ page: 1, text: 'globex probe page probeword alpha beta gamma' }, { page: 2, text: 'probeword once more here' }]);
      const alone = await search.search({ tenantId: 't2', q: 'probeword' });
      for (let i = 0; i < 5; i++) await search.indexDocument('t1', `a${i}`, [{ page: 1, text: `probeword probeword filler ${i}` }]);
      const beside = await search.search({ tenantId: 't2', q: 'probeword' });
      assert.deepEqual(beside, alone, 'the same hits, order and scores with another tenant\'s pages holding the word');
    },
  },
  {
    name: 'a page of 2 MB of text is indexed (its first 400,000 characters), not refused',
    async run({ search }) {
      const words = Array.from({ length: 260_000 }, (_, i) => `w${i.toString(36)}`).join(' ');
      assert.ok(words.length > 1_000_000);
      await search.indexDocument('t1', 'big', [{ page: 1, text: `opening ${words} closing` }]);
      assert.deepEqual((await search.search({ tenantId: 't1', q: 'opening' })).map((h) => h.documentId), ['big']);
      assert.deepEqual(await search.search({ tenantId: 't1', q: 'closing' }), [], 'past the indexed part');
    },
  },
  {
    name: 'a query of more than 32 different words is refused, not cut; repeats count once; punctuation alone is no word',
    async run({ search }) {
      await search.indexDocument('t1', 'd1', [{ page: 1, text: 'merger agreement between the parties' }]);
      const many = Array.from({ length: 33 }, (_, i) => `word${i}`).join(' ');
      await assert.rejects(search.search({ tenantId: 't1', q: many }), (error: unknown) => (error as { code?: string }).code === 'validation_failed');
      assert.equal((await search.search({ tenantId: 't1', q: `${'merger '.repeat(40)}agreement` })).length, 1, 'repeats count once');
      assert.deepEqual(await search.search({ tenantId: 't1', q: `${'merger '.repeat(40)}zzznotthere` }), [], 'every word must occur');
      assert.deepEqual(await search.search({ tenantId: 't1', q: '*** -' }), [], 'no word: no hit');
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
/** The words a hit's offsets mark in its snippet. */
function matched(hit: SearchHit): string[] {
  return hit.matches.map((match) => hit.snippet.slice(match.start, match.end));
}

export function searchConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('search', name, make, cases, options);
}
