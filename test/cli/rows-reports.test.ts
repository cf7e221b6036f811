// `ream rows --template`: a report per row, HTML and PDF, by the real binary and the system Chromium.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { requireOrSkip } from '../support/env.ts';
import { ordersWorkbook, toCsv } from '../formats/sheet-files.ts';
import { useRowsFolder, workDir } from './rows-helpers.ts';
import { run } from './run-process.ts';

useRowsFolder();

const CHROMIUM = '/usr/bin/chromium';
const INVOICE = '<html><body><h1>Invoice {{ invoice_no }}</h1><p>To: {{ customer }}</p><p>Total: {{ total | money: "EUR" }}</p><p>Due: {{ due | date: "%d %B %Y" }}</p></body></html>';
const ROWS = [
  ['invoice_no', 'customer', 'total', 'due'],
  ['INV-001', 'Ada <script>alert(1)</script>', '1234.5', '2026-03-04'],
  ['INV-002', 'Bob', '99', '2026-04-01'],
  ['INV-001', 'Cy', '12', '2026-05-01'],
  ['../../etc/passwd', 'Dee', '7', '2026-05-02'],
  ['INV-005', 'Eve', 'twelve', '2026-05-03'],
];

/** The one timestamped folder a run made under `outDir`. */
async function reportFolder(outDir: string): Promise<string> {
  const folders = await readdir(outDir);
  assert.equal(folders.length, 1, `one timestamped folder: ${folders.join(', ')}`);
  assert.match(folders[0]!, /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ-[0-9a-f]{8}$/);
  return join(outDir, folders[0]!);
}

function pdfText(path: string): string {
  return execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
}

describe('ream rows --template', () => {
  test('HTML and PDF per row: names from a template, sanitised and unique; cells escaped; a failed row coded; a re-run writes only what is missing', async (t) => {
    if (!requireOrSkip(t, existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`)) return;
    const work = await workDir('pdf');
    await writeFile(join(work, 'book.csv'), toCsv(ROWS));
    await writeFile(join(work, 'invoice.liquid'), INVOICE);
    const args = ['rows', 'book.csv', '--template', 'invoice.liquid', '--name', '{{ invoice_no }}', '--pdf', '--page-size', 'A5', '--margin', '10mm', '--out-dir', 'out', '--progress', 'none'];
    const first = await run(args, work);
    assert.equal(first.code, 1, `one row failed: ${first.stdout}${first.stderr}`);
    assert.match(first.stdout, /done: 4 rows succeeded, 1 failed, of 5/);
    assert.match(first.stdout, /row 5: the template could not be rendered \(line 1, column \d+\): money: "twelve" is not a number \[template_render_failed\]/);
    assert.match(first.stdout, /reports: 8 file\(s\) in .* \(8 written now\)/);
    const folder = await reportFolder(join(work, 'out'));
    assert.deepEqual((await readdir(folder)).sort(), [
      'INV-001-2.html', 'INV-001-2.pdf', 'INV-001.html', 'INV-001.pdf', 'INV-002.html', 'INV-002.pdf', '_._etc_passwd.html', '_._etc_passwd.pdf',
    ]);
    const html = await readFile(join(folder, 'INV-001.html'), 'utf8');
    assert.match(html, /<p>To: Ada &lt;script&gt;alert\(1\)&lt;\/script&gt;<\/p>/);
    assert.match(html, /Total: €1,234\.50/);

    const text = pdfText(join(folder, 'INV-001.pdf'));
    assert.match(text, /Invoice INV-001/);
    assert.match(text, /Ada <script>alert\(1\)<\/script>/, 'the cell printed as text, not run');
    assert.match(text, /Due: 04 March 2026/);
    assert.match(pdfText(join(folder, 'INV-001-2.pdf')), /To: Cy/);
    const info = execFileSync('pdfinfo', [join(folder, 'INV-002.pdf')], { encoding: 'utf8' });
    assert.match(info, /Page size:\s+4\d\d(\.\d+)? x 59\d(\.\d+)? pts \(A5\)/, 'A5');

    await rm(join(folder, 'INV-002.pdf'));
    // A file of the right size but other bytes (another row's report once had this name) is written again.
    const kept = await readFile(join(folder, 'INV-001.html'));
    await writeFile(join(folder, 'INV-001.html'), Buffer.alloc(kept.length, 'x'));
    const again = await run(args, work);
    assert.match(again.stdout, /reports: 8 file\(s\) in .* \(2 written now\)/, again.stdout + again.stderr);
    assert.deepEqual(await readFile(join(folder, 'INV-001.html')), kept);
    assert.equal(await reportFolder(join(work, 'out')), folder, 'the resumed run writes into the same folder');
    assert.match(pdfText(join(folder, 'INV-002.pdf')), /To: Bob/);
  });

  test('HTML only from a workbook sheet, with the table too; --pdf without Chromium fails fast with renderer_unavailable', async () => {
    const work = await workDir('html');
    await writeFile(join(work, 'book.xlsx'), await ordersWorkbook());
    await writeFile(join(work, 'order.liquid'), '<p>Order {{ id }} (row {{ row_number }}): {{ qty }} × {{ price | money: "USD" }} — {{ note }}</p>');
    const noBrowser = { REAM_CHROMIUM_PATH: join(work, 'no-chromium') };
    const refused = await run(['rows', 'book.xlsx', '--sheet', 'Orders', '--template', 'order.liquid', '--pdf', '--progress', 'none'], work, noBrowser);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /PDF reports need Chromium .*apt-get install chromium.*REAM_CHROMIUM_PATH.*\[renderer_unavailable\]/);
    assert.equal(existsSync(join(work, 'reports')), false, 'nothing ran');
    const noFooter = await run(['rows', 'book.xlsx', '--template', 'order.liquid', '--pdf', '--footer', 'nope.html', '--progress', 'none'], work);
    assert.equal(noFooter.code, 2);
    assert.match(noFooter.stderr, /cannot read footer nope\.html: .*\[validation_failed\]/);
    const badZone = await run(['rows', 'book.xlsx', '--template', 'order.liquid', '--timezone', 'Nowhere/City', '--progress', 'none'], work);
    assert.equal(badZone.code, 2);
    assert.match(badZone.stderr, /timezone.*Nowhere\/City.*\[validation_failed\]/);

    const html = await run(['rows', 'book.xlsx', '--sheet', 'Orders', '--template', 'order.liquid', '--out', 'orders.csv', '--progress', 'none'], work, noBrowser);
    assert.equal(html.code, 0, html.stdout + html.stderr);
    assert.match(html.stdout, /table: orders\.csv/);
    const folder = await reportFolder(join(work, 'reports'));
    assert.deepEqual((await readdir(folder)).sort(), ['row-1.html', 'row-2.html', 'row-3.html', 'row-4.html']);
    assert.equal(await readFile(join(folder, 'row-1.html'), 'utf8'), '<p>Order 1 (row 1): 2 × $5.50 — first</p>');
    assert.equal(await readFile(join(folder, 'row-4.html'), 'utf8'), '<p>Order 4 (row 4):  ×  — </p>');
  });

  test('a template that reads files is refused before anything runs, with line and column', async () => {
    const work = await workDir('invalid');
    await writeFile(join(work, 'book.csv'), toCsv(ROWS));
    await writeFile(join(work, 'bad.liquid'), "<p>\n  {% include '/etc/passwd' %}</p>");
    const result = await run(['rows', 'book.csv', '--template', 'bad.liquid', '--progress', 'none'], work);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /the template does not parse \(line 2, column 3\): \{% include %\} is not allowed.*\[template_invalid\]/);
  });
});
