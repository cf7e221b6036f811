import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RULE_LIMITS, rulesAnalyzer, type RuleSpec } from '../../src/analyzers/rules/index.ts';
import { ReamError } from '../../src/errors.ts';
import type { PageText } from '../../src/formats/types.ts';

const context = { signal: new AbortController().signal, documentId: 'doc-1' };

const invoice: PageText[] = [
  { page: 1, text: 'ACME GmbH\nInvoice No. INV-2024-001\nDate: 2024-03-01\nSubtotal: 90.00 EUR' },
  { page: 2, text: 'Items …\nNet total  100,00 EUR\nTotal: 119.00 EUR\nPayable in usd or EUR.' },
  { page: 3, text: 'Invoice No. INV-2024-002 (credit note)\nTOTAL: 5.00 EUR' },
];

async function analyze(specs: RuleSpec[], pages: PageText[] = invoice): Promise<Record<string, Array<[string, number]>>> {
  const fields = await rulesAnalyzer(specs).analyze(pages, context);
  return Object.fromEntries(Object.entries(fields).map(([name, matches]) => [name, matches.map((m) => [m.value, m.page])]));
}

void test('a pattern finds the first match with its 1-based page; group 1 by default when the pattern captures', async () => {
  assert.deepEqual(await analyze([{ name: 'invoice', pattern: String.raw`Invoice No\. (\S+)` }]), { invoice: [['INV-2024-001', 1]] });
});

void test('`all` reports every match on every page, in page order', async () => {
  const pages = [...invoice].reverse(); // the analyzer must not rely on the input order
  assert.deepEqual(await analyze([{ name: 'invoice', pattern: String.raw`Invoice No\. (\S+)`, all: true }], pages), {
    invoice: [['INV-2024-001', 1], ['INV-2024-002', 3]],
  });
});

void test('named and numbered groups, the whole match, flags and caseSensitive', async () => {
  assert.deepEqual(await analyze([
    { name: 'total', pattern: String.raw`^Total:\s*(?<amount>[\d.]+)`, flags: 'm', group: 'amount' },
    { name: 'date', pattern: String.raw`\d{4}-\d{2}-\d{2}` },
    { name: 'currency', pattern: String.raw`(\d+)\.(\d+) (EUR)`, group: 3 },
    { name: 'loud_total', pattern: String.raw`^total:\s*([\d.]+)`, flags: 'm', caseSensitive: false, all: true },
  ]), {
    total: [['119.00', 2]],
    date: [['2024-03-01', 1]],
    currency: [['EUR', 1]],
    loud_total: [['119.00', 2], ['5.00', 3]],
  });
});

void test('keywords match whole words, case-insensitively by default, spaces matching any whitespace', async () => {
  assert.deepEqual(await analyze([
    { name: 'currency', keywords: ['usd', 'eur'], all: true },
    { name: 'net', keywords: ['net total'] },
    { name: 'total', keywords: ['total'], all: true },
    { name: 'strict', keywords: ['Eur'], caseSensitive: true },
  ]), {
    currency: [['EUR', 1], ['EUR', 2], ['EUR', 2], ['usd', 2], ['EUR', 2], ['EUR', 3]],
    net: [['Net total', 2]],
    // not "Subtotal" on page 1: whole words only
    total: [['total', 2], ['Total', 2], ['TOTAL', 3]],
    strict: [],
  });
});

void test('keywords with regex syntax are taken literally', async () => {
  assert.deepEqual(await analyze([{ name: 'lang', keywords: ['C++', 'a.b (x)'], all: true }], [{ page: 1, text: 'C++ and a.b (x) but not aXb (x) or C+++' }]), {
    lang: [['C++', 1], ['a.b (x)', 1], ['C++', 1]],
  });
});

void test('every rule is a key, with [] when nothing matched; blank captures are skipped', async () => {
  assert.deepEqual(await analyze([
    { name: 'missing', pattern: 'no such text' },
    { name: 'optional', pattern: String.raw`Date:( *)(\S+)?` },
  ]), { missing: [], optional: [] });
});

void test('reduce keeps the first match of the document for rules without `all`', () => {
  const analyzer = rulesAnalyzer([{ name: 'first', pattern: 'x' }, { name: 'every', pattern: 'x', all: true }, { name: 'none', pattern: 'y' }]);
  const merged = { first: [{ value: 'a', page: 2 }, { value: 'b', page: 7 }], every: [{ value: 'a', page: 2 }, { value: 'b', page: 7 }] };
  assert.deepEqual(analyzer.reduce?.(merged), { first: [{ value: 'a', page: 2 }], every: merged.every, none: [] });
});

void test('the config is the validated rules, as JSON', () => {
  const analyzer = rulesAnalyzer([{ name: 'a', keywords: ['x'] }]);
  assert.equal(analyzer.name, 'rules');
  assert.deepEqual(analyzer.config, [{ name: 'a', keywords: ['x'] }]);
});

void test('a cancelled analysis stops with `cancelled`', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    rulesAnalyzer([{ name: 'a', pattern: 'x' }]).analyze(invoice, { signal: controller.signal, documentId: 'd' }),
    (error: unknown) => error instanceof ReamError && error.code === 'cancelled',
  );
});

void test('only the first maxPageChars characters of a page are searched; `all` keeps at most maxMatchesPerPage per page', async () => {
  const long = `${'.'.repeat(RULE_LIMITS.maxPageChars)}needle`;
  assert.deepEqual(await analyze([{ name: 'n', keywords: ['needle'] }], [{ page: 1, text: long }]), { n: [] });
  const many = 'x '.repeat(RULE_LIMITS.maxMatchesPerPage + 50);
  const fields = await rulesAnalyzer([{ name: 'x', keywords: ['x'], all: true }]).analyze([{ page: 1, text: many }, { page: 2, text: 'x' }], context);
  assert.equal(fields.x?.length, RULE_LIMITS.maxMatchesPerPage + 1);
});

void test('a pattern that matches the empty string does not loop', async () => {
  assert.deepEqual(await analyze([{ name: 'e', pattern: 'z*', all: true }], [{ page: 1, text: 'abc' }]), { e: [] });
});

void test('each page alone in one call (analyzeEachPage) gives what analyze gives page by page', async () => {
  const specs: RuleSpec[] = [
    { name: 'invoice', pattern: String.raw`Invoice No\. (\S+)` },
    { name: 'eur', pattern: String.raw`([\d.,]+) EUR`, all: true },
    { name: 'currency', keywords: ['usd', 'eur'] },
    { name: 'missing', pattern: 'nowhere' },
  ];
  const analyzer = rulesAnalyzer(specs);
  const pageByPage: Record<string, unknown[]> = {};
  for (const page of invoice) {
    for (const [name, matches] of Object.entries(await analyzer.analyze([page], context))) (pageByPage[name] ??= []).push(...matches);
  }
  const atOnce = analyzer.analyzeEachPage?.(invoice, context);
  assert.deepEqual(atOnce, pageByPage);
  assert.equal(atOnce?.eur?.length, 4, 'every EUR amount of every page');
  assert.deepEqual(atOnce?.invoice?.map((m) => m.page), [1, 3], 'a first match per page, not per document');
  assert.deepEqual(analyzer.analyzeEachPage?.([], context), {});
});

void test('matches step as String#matchAll steps: empty matches, surrogate pairs in u mode, a rule run again on another page', async () => {
  const texts = ['a😀b😀', '😀😀', 'aa ab a', '', 'x\u{1F600}y'];
  const patterns: Array<{ pattern: string; flags?: string }> = [
    { pattern: 'a*' },
    { pattern: 'a*', flags: 'u' },
    { pattern: '(?:)', flags: 'u' },
    { pattern: '(?:)' },
    { pattern: '(a)|' },
    { pattern: String.raw`\b`, flags: 'u' },
    { pattern: '.', flags: 'u' },
    { pattern: '.' },
  ];
  for (const { pattern, flags } of patterns) {
    const rule: RuleSpec = { name: 'r', pattern, all: true, group: 0, ...(flags === undefined ? {} : { flags }) };
    const pages = texts.map((text, i) => ({ page: i + 1, text }));
    const expected = pages.flatMap(({ page, text }) =>
      [...text.matchAll(new RegExp(pattern, `${flags ?? ''}g`))].map((match) => match[0].trim()).filter((value) => value !== '').map((value) => [value, page]),
    );
    assert.deepEqual((await analyze([rule], pages)).r, expected, `/${pattern}/${flags ?? ''}`);
  }
});
