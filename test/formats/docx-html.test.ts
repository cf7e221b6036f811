// Word (.docx) and HTML as documents: HTML one page, the whole document; Word cut at its page
// and section breaks, or one page without any; what a page is said in `metadata.pageUnit` and
// `metadata.pagination`; headings and tables kept as text; links dropped unless asked for.
// Real files: mammoth's own test documents and a page of Debian's base-passwd documentation
// (test/fixtures/README.md). ZIPs are told apart by their directory, and bombs refused from it.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MAX_NESTING } from '../../src/formats/html/html-nesting.ts';
import { DOCX_MEDIA_TYPE, HTML_MEDIA_TYPE, XLSX_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import type { Extraction, Inspection, ReadLimits } from '../../src/formats/types.ts';
import { DOCX_SECTION_PAGINATION, DOCX_WHOLE_PAGINATION, markBreaks } from '../../src/formats/docx/docx-pages.ts';
import { WHOLE_DOCUMENT_PAGINATION } from '../../src/formats/whole-document-format.ts';
import { MAX_ZIP_ENTRIES } from '../../src/formats/zip/zip-entry-count.ts';
import JSZip from 'jszip';
import { formatsFixture } from '../support/formats-fixture.ts';
import { deflated, makeZip, stored, type StoredEntry } from '../support/make-zip.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { ordersWorkbook } from './sheet-files.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };
const FIXTURES = new URL('../fixtures/real/', import.meta.url).pathname;

/** `zip` with every central-directory entry called `entry` declaring `size` uncompressed bytes (offset 24 of its header). */
function declareSize(zip: Buffer, entry: string, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let at = out.indexOf('PK\x01\x02', 0, 'latin1'); at !== -1; at = out.indexOf('PK\x01\x02', at + 4, 'latin1')) {
    const nameLength = out.readUInt16LE(at + 28);
    if (out.toString('latin1', at + 46, at + 46 + nameLength) === entry) out.writeUInt32LE(size, at + 24);
  }
  return out;
}

/** The entries of the fixture `name`, inflated and stored again as they are. */
async function fixtureEntries(name: string): Promise<StoredEntry[]> {
  const zip = await JSZip.loadAsync(await readFile(join(FIXTURES, name)));
  return Promise.all(Object.values(zip.files).filter((f) => !f.dir).map(async (f) => stored({ name: f.name, data: await f.async('nodebuffer') })));
}

/** `entries` with the one named `name` replaced by `entry`. */
function replaced(entries: readonly StoredEntry[], name: string, entry: (old: StoredEntry) => StoredEntry): StoredEntry[] {
  assert.ok(entries.some((e) => e.name === name), name);
  return entries.map((e) => (e.name === name ? entry(e) : e));
}

void describe('Word and HTML documents', () => {
  const fixture = formatsFixture('ream-docx-html-', limits);
  const read = async (path: string, links = false): Promise<Inspection & Extraction> => {
    const { inspection, extraction } = await fixture.read(path, { links });
    return { ...inspection, ...extraction };
  };
  const file = (name: string, bytes: Uint8Array | string): Promise<string> => fixture.file(name, bytes);

  void test('a real .docx: its text with the table as rows of cells, its properties, one page said so', async () => {
    const doc = await read(join(FIXTURES, 'mammoth-tables.docx'));
    assert.equal(doc.mediaType, DOCX_MEDIA_TYPE);
    assert.equal(doc.pageCount, 1);
    assert.deepEqual(doc.failures, []);
    const lines = (doc.pages[0]?.text ?? '').split('\n').map((line) => line.split(/\s{2,}/).filter(Boolean));
    assert.deepEqual(lines.filter((cells) => cells.length > 0), [['Above'], ['Top left', 'Top right'], ['Bottom left', 'Bottom right'], ['Below']]);
    assert.equal(doc.metadata.author, 'Michael Williamson');
    assert.equal(doc.metadata.createdAt, '2014-07-05T18:21:00.000Z');
    assert.equal(doc.metadata.creator, 'Microsoft Office Word');
    assert.equal(doc.metadata.pagination, DOCX_WHOLE_PAGINATION, 'no break in it: one page');
    assert.equal(doc.metadata.pageUnit, 'document');
    assert.equal((await read(join(FIXTURES, 'mammoth-single-paragraph.docx'))).pages[0]?.text, 'Walking on imported air');
  });

  void test('a .docx is cut at its page breaks, "page break before" and section breaks (not continuous ones), said so in pageUnit', async () => {
    const p = (text: string, properties = ''): string => `<w:p>${properties ? `<w:pPr>${properties}</w:pPr>` : ''}<w:r><w:t>${text}</w:t></w:r></w:p>`;
    const section = (type: string): string => `<w:sectPr>${type ? `<w:type w:val="${type}"/>` : ''}<w:pgSz w:w="11906" w:h="16838"/></w:sectPr>`;
    const body = [
      p('Title page'),
      // A page break inside a paragraph: its text before and after go to two pages.
      '<w:p><w:r><w:t>Ends page one.</w:t><w:br w:type="page"/><w:t>Starts page two.</w:t></w:r></w:p>',
      '<w:p><w:r><w:t>A line</w:t><w:br/><w:t>break is no page break.</w:t></w:r></w:p>',
      p('Chapter 3', '<w:pageBreakBefore/>'),
      p('Not a break', '<w:pageBreakBefore w:val="0"/>'),
      p('End of section one', section('')),
      p('Section two, same page as what follows', section('continuous')),
      p('Still section two\'s page', section('nextPage')),
      p('Last section'),
      '<w:tbl><w:tr><w:tc>' + p('Cell') + '</w:tc></w:tr></w:tbl>',
      '<w:p><w:r><w:br w:type="page"/></w:r></w:p>',
      section(''),
    ].join('');
    const zip = await JSZip.loadAsync(await readFile(join(FIXTURES, 'mammoth-single-paragraph.docx')));
    const original = await zip.file('word/document.xml')?.async('string') ?? '';
    zip.file('word/document.xml', original.replace(/<w:body>[\s\S]*<\/w:body>/, `<w:body>${body}</w:body>`));
    const doc = await read(await file('breaks.docx', await zip.generateAsync({ type: 'nodebuffer' })));
    assert.deepEqual(doc.pages.map((page) => page.text.split('\n').filter(Boolean)), [
      ['Title page', 'Ends page one.'],
      ['Starts page two.', 'A line', 'break is no page break.'],
      ['Chapter 3', 'Not a break', 'End of section one'],
      ['Section two, same page as what follows', 'Still section two\'s page'],
      ['Last section', 'Cell'],
    ], 'a break at the very end makes no empty last page');
    assert.equal(doc.pageCount, 5);
    assert.equal(doc.metadata.pageUnit, 'section');
    assert.equal(doc.metadata.pagination, DOCX_SECTION_PAGINATION);
    const format = fixture.formats().byMediaType(DOCX_MEDIA_TYPE);
    const path = join(fixture.dir(), 'breaks.docx');
    assert.deepEqual((await format?.extract(path, { from: 2, to: 4 }))?.pages.map((page) => page.page), [3, 4], 'a range of pages, numbered as the whole');
    await rejectsWithCode(format?.inspect(path, { ...limits, maxPages: 4 }) ?? Promise.resolve(), 'too_many_pages');
  });

  void test('ZIPs by their directory: an XLSX named .docx is read as a workbook; a ZIP without word/document.xml is invalid_docx', async () => {
    const book = await file('named-wrong.docx', await ordersWorkbook());
    assert.equal((await fixture.formats().identify(book, undefined, limits)).mediaType, XLSX_MEDIA_TYPE);
    // The names are stored uncompressed: renaming the document part leaves a ZIP of something else.
    const docx = await readFile(join(FIXTURES, 'mammoth-tables.docx'));
    const renamed = Buffer.from(docx.toString('latin1').replaceAll('word/document.xml', 'word/documenX.xml'), 'latin1');
    await rejectsWithCode(fixture.formats().identify(await file('no-document.docx', renamed), undefined, limits), 'invalid_docx', /has no word\/document\.xml/);
    const format = fixture.formats().byMediaType(DOCX_MEDIA_TYPE);
    assert.ok(format);
    for (const cut of [docx.length >> 1, docx.length - 10]) {
      const path = await file(`cut-${cut}.docx`, docx.subarray(0, cut));
      const said = /the file is cut short or damaged: a ZIP archive ends with its directory of entries, and this one has none/;
      await rejectsWithCode(format.inspect(path, limits), 'invalid_docx', said);
      await rejectsWithCode(fixture.formats().identify(path, undefined, limits), 'invalid_docx', said);
    }
    const workbook = Buffer.from(await ordersWorkbook());
    const sheets = fixture.formats().byMediaType(XLSX_MEDIA_TYPE);
    assert.ok(sheets);
    await rejectsWithCode(sheets.inspect(await file('cut.xlsx', workbook.subarray(0, workbook.length - 10)), limits), 'invalid_sheet', /the file is cut short or damaged/);
  });

  void test('page breaks in their other legal spellings are seen; markup built to make a search backtrack is read in linear time', () => {
    const marker = 'MARK';
    const marked = markBreaks([
      "<w:p><w:r><w:t>a</w:t><w:br w:type='page'/><w:t>b</w:t></w:r></w:p>",
      '<w:p><w:r><w:br w:clear="all" w:type="page"></w:br><w:t>c</w:t></w:r></w:p>',
      '<w:p><w:r><w:brX w:type="page"/><w:br w:type="textWrapping"/><w:t>d</w:t></w:r></w:p>',
      "<w:p><w:pPr><w:pageBreakBefore w:val='false'/></w:pPr><w:r><w:t>e</w:t></w:r></w:p>",
      "<w:p><w:pPr><w:pageBreakBefore w:val='1'/></w:pPr><w:r><w:t>f</w:t></w:r></w:p>",
      '<w:p><w:r><w:br w:foo="a>b" w:type="page"/><w:t>g</w:t></w:r></w:p>',
    ].join(''), marker);
    assert.equal(marked.split(marker).length - 1, 4, marked);
    assert.doesNotMatch(marked, /<\/w:br>/, 'the end tag goes with its break');
    // Each of these took seconds to minutes with regular expressions over the whole text.
    for (const hostile of [`<!-- ${'<w:br '.repeat(300_000)} -->`, `<w:p><w:pPr>${'<w:pageBreakBefore w:val="'.repeat(100_000)}</w:pPr></w:p>`,
      `<w:p><w:pPr>${'<w:sectPr '.repeat(100_000)}</w:pPr></w:p>`, `${'<w:p><w:pPr><w:sectPr></w:sectPr></w:pPr>'.repeat(50_000)}`]) {
      const started = performance.now();
      markBreaks(hostile, marker);
      assert.ok(performance.now() - started < 3_000, `${hostile.slice(0, 40)}: ${Math.round(performance.now() - started)} ms`);
    }
  });

  void test('a ZIP bomb is refused from its declared sizes before anything is inflated (resource_limit)', async () => {
    const docx = await readFile(join(FIXTURES, 'mammoth-tables.docx'));
    const bomb = await file('bomb.docx', declareSize(docx, 'word/document.xml', 900 * 2 ** 20));
    await rejectsWithCode(fixture.formats().identify(bomb, undefined, limits), 'resource_limit', /inflates/);
    const format = fixture.formats().byMediaType(DOCX_MEDIA_TYPE);
    assert.ok(format);
    await rejectsWithCode(format.inspect(bomb, limits), 'resource_limit', /word\/document\.xml inflates/);
    // An XLSX too: its reader checks the same directory.
    const book = await file('bomb.xlsx', declareSize(Buffer.from(await ordersWorkbook()), 'xl/worksheets/sheet1.xml', 900 * 2 ** 20));
    await rejectsWithCode(fixture.formats().identify(book, undefined, limits), 'resource_limit');
    // An entry that inflates past what its directory declares is stopped as it does.
    const liar = await file('liar.docx', declareSize(docx, 'docProps/core.xml', 10));
    await rejectsWithCode(format.inspect(liar, limits), 'resource_limit', /past the 10 bytes/);
    // The parts the Word reader inflates itself: a lie found once inflated is resource_limit all the same.
    const lyingStyles = await file('liar-styles.docx', declareSize(docx, 'word/styles.xml', 10));
    await rejectsWithCode(read(lyingStyles), 'resource_limit', /inflates past/);
    // A workbook's sheet that lies is stopped as it inflates too, not read whole (it used to "succeed").
    const sheets = fixture.formats().byMediaType(XLSX_MEDIA_TYPE);
    assert.ok(sheets);
    const lyingBook = await file('liar.xlsx', declareSize(Buffer.from(await ordersWorkbook()), 'xl/worksheets/sheet1.xml', 10));
    await rejectsWithCode(sheets.inspect(lyingBook, limits), 'resource_limit', /sheet1\.xml inflates past the 10 bytes/);
  });

  void test('only the parts mammoth reads are inflated: 240 MiB of other entries cost nothing; 60,000 entries are refused from the end record', async () => {
    const own = await fixtureEntries('mammoth-tables.docx');
    const empties = (count: number): StoredEntry[] => Array.from({ length: count }, (_, i) => stored({ name: `customXml/item${i}.xml`, data: Buffer.alloc(0) }));
    // Each under the size from which the compression ratio is checked, 240 MiB in all: within the directory's limits.
    const zeros = deflated({ name: '', data: Buffer.alloc(15 * 2 ** 20) });
    const padded = makeZip([...own, ...Array.from({ length: 16 }, (_, i): StoredEntry => ({ ...zeros, name: `word/media/zeros${i}.bin` }))]);
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    try {
      // Inflated and rewritten whole, the padded one took 13 s and 660 MB.
      for (const [name, bytes] of [['padded.docx', padded], ['crowded.docx', makeZip([...own, ...empties(2_000)])]] as const) {
        const started = performance.now();
        const doc = await read(await file(name, bytes));
        const seconds = (performance.now() - started) / 1000;
        assert.match(doc.pages[0]?.text ?? '', /Top left\s+Top right/, name);
        assert.ok(seconds < 10, `${name}: ${seconds.toFixed(1)} s`);
      }
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak - baseline < 200 * 2 ** 20, `RSS grew ${Math.round((peak - baseline) / 2 ** 20)} MB`);
    // 60,000 empty entries (7 MB) took 52 s to read; a workbook's directory is counted the same way.
    const crowded = await file('too-many.docx', makeZip([...own, ...empties(60_000)]));
    await rejectsWithCode(fixture.formats().identify(crowded, undefined, limits), 'resource_limit', new RegExp(`60012 entries; ream reads archives of at most ${MAX_ZIP_ENTRIES}`));
    const format = fixture.formats().byMediaType(DOCX_MEDIA_TYPE);
    assert.ok(format);
    await rejectsWithCode(format.inspect(crowded, limits), 'resource_limit', /60012 entries/);
  });

  void test('pictures are never inflated, so they may compress 1000× and weigh more than the archive limit: the document is read', async () => {
    const own = await fixtureEntries('mammoth-tables.docx');
    // A white page scanned at 600 DPI compresses about this well; before, it refused the document as a bomb.
    const white = deflated({ name: 'word/media/scan.png', data: Buffer.alloc(20 * 2 ** 20) });
    // 270 MiB of photos (15 MiB each, each under the ratio check), past the 256 MiB read limit.
    const photos = Array.from({ length: 18 }, (_, i): StoredEntry => ({ ...deflated({ name: '', data: Buffer.alloc(15 * 2 ** 20) }), name: `word/media/photo${i}.jpeg` }));
    for (const [name, entries] of [['white-scan.docx', [white]], ['photos.docx', photos]] as const) {
      const path = await file(name, makeZip([...own, ...entries]));
      assert.equal((await fixture.formats().identify(path, undefined, limits)).mediaType, DOCX_MEDIA_TYPE, name);
      assert.match((await read(path)).pages[0]?.text ?? '', /Top left\s+Top right/, name);
    }
    // The same bytes as a part the text is read from are still a bomb.
    const bomb = await file('styles-bomb.docx', makeZip([...replaced(own, 'word/styles.xml', () => ({ ...white, name: 'word/styles.xml' }))]));
    await rejectsWithCode(read(bomb), 'resource_limit', /word\/styles\.xml inflates \d+×/);
    // Even when the package's relationships make a part under word/media/ the document itself.
    const rels = own.find((entry) => entry.name === '_rels/.rels');
    assert.ok(rels);
    const moved = [
      ...replaced(own.filter((entry) => entry.name !== 'word/document.xml'), '_rels/.rels', () => stored({ name: '_rels/.rels', data: Buffer.from(rels.stored.toString('utf8').replace('word/document.xml', 'word/media/document.xml')) })),
      stored({ name: 'word/document.xml', data: Buffer.from('<w:document/>') }),
      { ...white, name: 'word/media/document.xml' },
    ];
    await rejectsWithCode(read(await file('media-main.docx', makeZip(moved))), 'resource_limit', /word\/media\/document\.xml inflates \d+×/);
  });

  void test('XML that declares entities, XML that is not well-formed and an encrypted part are refused in words, not in their parsers\' raw text', async () => {
    const own = await fixtureEntries('mammoth-tables.docx');
    const format = fixture.formats().byMediaType(DOCX_MEDIA_TYPE);
    assert.ok(format);
    // The fixture's entries are stored as they are: their bytes are the XML.
    const edited = (name: string, edit: (text: string) => string): StoredEntry[] => replaced(own, name, (entry) => stored({ name, data: Buffer.from(edit(entry.stored.toString('utf8'))) }));
    const dtd = (declarations: string) => (text: string): string => text.replace(/^(<\?xml[^>]*\?>)?/, `$1<!DOCTYPE root [${declarations}]>`);
    const xxe = dtd('<!ENTITY xxe SYSTEM "file:///etc/passwd">');
    const laughs = dtd(['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`)].join(''));
    const cases: Array<[string, StoredEntry[], RegExp]> = [
      ['xxe.docx', edited('word/document.xml', (text) => xxe(text).replace('Top left', '&xxe;')), /declares XML entities \(a <!DOCTYPE> in word\/document\.xml\), which ream does not read/],
      ['laughs.docx', edited('word/styles.xml', (text) => laughs(text).replace('</w:styles>', '<w:style w:styleId="x"><w:name w:val="&lol9;"/></w:style></w:styles>')), /declares XML entities \(a <!DOCTYPE> in word\/styles\.xml\)/],
      ['core.docx', edited('docProps/core.xml', xxe), /declares XML entities \(a <!DOCTYPE> in docProps\/core\.xml\)/],
      ['twice.docx', edited('word/document.xml', (text) => text.replace('<w:document ', '<w:document a="1" a="2" ')), /cannot be read: its XML is not well-formed: Attribute a redefined$/],
      ['locked.docx', replaced(own, 'word/document.xml', (entry) => ({ ...entry, encrypted: true })), /part word\/document\.xml cannot be read: it is encrypted/],
    ];
    for (const [name, entries, message] of cases) {
      const error = await rejectsWithCode(format.inspect(await file(name, makeZip(entries)), limits), 'invalid_docx', message);
      assert.doesNotMatch(error.message, /xmldom|@#\[|\t|PASSWORD/, name);
    }
  });

  void test('a Word document nested deeper than real ones is refused with resource_limit, not a stack overflow in its parser', async () => {
    const own = await fixtureEntries('mammoth-tables.docx');
    const format = fixture.formats().byMediaType(DOCX_MEDIA_TYPE);
    assert.ok(format);
    // 5,000 tables, each inside the last: 1.3 KB deflated, 15,000 elements deep.
    const nested = (tables: number): StoredEntry[] => replaced(own, 'word/document.xml', (entry) => stored({
      name: 'word/document.xml',
      data: Buffer.from(entry.stored.toString('utf8').replace(/<w:body>[\s\S]*<\/w:body>/, `<w:body>${'<w:tbl><w:tr><w:tc>'.repeat(tables)}<w:p><w:r><w:t>deep</w:t></w:r><w:br/></w:p>${'</w:tc></w:tr></w:tbl>'.repeat(tables)}</w:body>`)),
    }));
    const error = await rejectsWithCode(format.inspect(await file('deep.docx', makeZip(nested(5_000))), limits), 'resource_limit', /the document's XML nests more than 1000 elements deep/);
    assert.doesNotMatch(error.message, /call stack/);
    // Counted by XML's rules: inside an element HTML reads as raw text (`title`), behind closing
    // tags that are text (in CDATA, a processing instruction), or of names HTML's tags never have.
    const disguised = (open: string, close: string): StoredEntry[] => replaced(own, 'word/document.xml', (entry) => stored({
      name: 'word/document.xml',
      data: Buffer.from(entry.stored.toString('utf8').replace(/<w:body>[\s\S]*<\/w:body>/, `<w:body><title>${open.repeat(5_000)}<w:p/>${close.repeat(5_000)}</title></w:body>`)),
    }));
    for (const [open, close] of [['<w:tbl><w:tr><w:tc>', '</w:tc></w:tr></w:tbl>'], ['<_a><![CDATA[</b>]]>', '</_a>'], ['<é><?pi </b>?>', '</é>']] as const) {
      await rejectsWithCode(format.inspect(await file('hidden.docx', makeZip(disguised(open, close))), limits), 'resource_limit', /the document's XML nests more than 1000 elements deep/);
    }
    // Nested 300 deep (900 elements), its self-closed elements not counted: read.
    assert.match((await read(await file('nested.docx', makeZip(nested(300))))).pages[0]?.text ?? '', /deep/);
  });

  void test('a real HTML page: its title, its text in reading order, no markup', async () => {
    const page = await read(join(FIXTURES, 'base-passwd-users-and-groups.html'));
    assert.equal(page.mediaType, HTML_MEDIA_TYPE);
    assert.equal(page.metadata.title, 'Users and Groups in the Debian System');
    assert.equal(page.metadata.pagination, WHOLE_DOCUMENT_PAGINATION);
    const text = page.pages[0]?.text ?? '';
    assert.doesNotMatch(text, /<[a-z]+[\s>]/i);
    assert.match(text, /^Chapter 1\. Introduction$/m);
    assert.match(text, /^1\. Introduction$/m, 'the table of contents, one entry a line');
    assert.ok(text.indexOf('Chapter 1. Introduction') < text.indexOf('Chapter 2. Users and Groups'));
  });

  void test('markup nested deeper than real pages nest is refused at once with resource_limit, not parsed for minutes', async () => {
    const depth = MAX_NESTING + 1;
    const path = await file('deep.html', `<!DOCTYPE html><html><body>${'<div>'.repeat(depth)}deep${'</div>'.repeat(depth)}</body></html>`);
    const started = Date.now();
    await rejectsWithCode(read(path), 'resource_limit', /nests more than 1000 elements deep/);
    assert.ok(Date.now() - started < 10_000);
    // Just under the limit, with unclosed <p>s and <li>s (optional end tags) that do not count: read.
    const sloppy = `<html><body>${'<div>'.repeat(MAX_NESTING - 10)}${'<p>para <li>item '.repeat(2_000)}${'</div>'.repeat(MAX_NESTING - 10)}</body></html>`;
    assert.match((await read(await file('sloppy.html', sloppy))).pages[0]?.text ?? '', /para/);
  });

  void test('HTML: headings as written, tables as rows, scripts and templates dropped, links only on request, the declared charset', async () => {
    const html = [
      '<!DOCTYPE html><html><head><meta charset="iso-8859-1"><title>Caf\xe9 menu</title><meta name="author" content="Ann">',
      '<style>p { color: red }</style><script>alert("no")</script></head><body>',
      '<h1>Daily specials</h1><p>See <a href="https://example.org/menu">the full menu</a>.</p>',
      '<table><tr><th>Dish</th><th>Price</th></tr><tr><td>Cr\xeape</td><td>4.50</td></tr></table>',
      '<template><title>Template title</title><p>Template row</p></template>',
      '</body></html>',
    ].join('');
    const path = await file('menu.html', Buffer.from(html, 'latin1'));
    const plain = await read(path);
    assert.equal(plain.metadata.title, 'Café menu');
    assert.equal(plain.metadata.author, 'Ann');
    const text = plain.pages[0]?.text ?? '';
    assert.match(text, /^Daily specials$/m);
    assert.match(text, /^See the full menu\.$/m);
    assert.match(text, /^Dish\s+Price$/m);
    assert.match(text, /^Crêpe\s+4\.50$/m);
    assert.doesNotMatch(text, /alert|color|example\.org|Template/, 'a <template> is never rendered');
    const linked = await read(path, true);
    assert.match(linked.pages[0]?.text ?? '', /the full menu \[https:\/\/example\.org\/menu\]/);
    const templated = await read(await file('templated.html', '<html><head><template><title>Not this</title></template><title>This</title></head><body><template><p>Nor this</p></template><p>Shown</p></body></html>'));
    assert.equal(templated.metadata.title, 'This', 'nor is its <title> the page\'s');
    assert.equal(templated.pages[0]?.text, 'Shown');
  });

  void test('HTML in UTF-16 with its byte order mark is read; a page whose ASCII declares UTF-16 is read as UTF-8, as browsers read it', async () => {
    const page = '<!DOCTYPE html><html><head><title>Crêpes</title></head><body><p>Ein Café für alle</p></body></html>';
    for (const [name, bytes] of [
      ['le.html', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(page, 'utf16le')])],
      ['be.html', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(page, 'utf16le').swap16()])],
    ] as const) {
      const read16 = await read(await file(name, bytes));
      assert.equal(read16.metadata.title, 'Crêpes', name);
      assert.equal(read16.pages[0]?.text, 'Ein Café für alle', name);
    }
    const declared = await read(await file('declared.html', `<html><head><meta charset="utf-16"><title>Plain title</title></head><body><p>Grüße</p></body></html>`));
    assert.equal(declared.metadata.title, 'Plain title');
    assert.equal(declared.pages[0]?.text, 'Grüße');
  });
});
