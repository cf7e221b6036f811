// One side of the reports benchmark (bench/reports.ts), in a process of its own so that its
// peak memory is its own: `ream` renders a CSV's rows through `ream rows`' engine path (the
// rows pipeline with a template and pdf), `bare` is the loop one would write by hand with
// LiquidJS and playwright-core, with the same number of Chromium pages. Prints one JSON line.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Liquid } from 'liquidjs';
import { chromium } from 'playwright-core';
import { chromiumPath } from '../src/reports/pdf/chromium-path.ts';
import { createReam } from '../src/runtime/create-ream.ts';

const [side = 'ream', rowsArg = '1000', pagesArg = '2'] = process.argv.slice(2);
const ROWS = Number(rowsArg);
const PAGES = Number(pagesArg);
export const TEMPLATE = '<html><body style="font-family:sans-serif"><h1>Invoice {{ invoice_no }}</h1><p>{{ customer }}</p><table><tr><td>{{ item }}</td><td>{{ qty }}</td><td>{{ total | money: "EUR" }}</td></tr></table></body></html>';
const BARE_TEMPLATE = TEMPLATE.replace(' | money: "EUR"', '');

function csv(rows: number): string {
  const lines = ['invoice_no,customer,item,qty,total'];
  for (let i = 1; i <= rows; i++) lines.push(`INV-${i},Customer ${i},Item ${i % 17},${i % 9},${(i * 3.7).toFixed(2)}`);
  return `${lines.join('\n')}\n`;
}

async function bare(dir: string): Promise<void> {
  const liquid = new Liquid({ outputEscape: 'escape' });
  const template = liquid.parse(BARE_TEMPLATE);
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const context = await browser.newContext({ javaScriptEnabled: false });
  const pages = await Promise.all(Array.from({ length: PAGES }, () => context.newPage()));
  let next = 1;
  await Promise.all(pages.map(async (page) => {
    while (next <= ROWS) {
      const i = next++;
      const html = String(await liquid.render(template, { invoice_no: `INV-${i}`, customer: `Customer ${i}`, item: `Item ${i % 17}`, qty: i % 9, total: (i * 3.7).toFixed(2) }));
      await page.setContent(html);
      await writeFile(join(dir, `INV-${i}.pdf`), await page.pdf({ format: 'A4' }));
    }
  }));
  await browser.close();
}

async function viaReam(dir: string): Promise<void> {
  process.env.REAM_PDF_PAGES = String(PAGES);
  const path = join(dir, 'rows.csv');
  await writeFile(path, csv(ROWS));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  try {
    const job = await ream.createJob({ pipeline: 'rows', options: { template: TEMPLATE, name: '{{ invoice_no }}', pdf: true, chunkPages: 50 } });
    await ream.addFile(job.id, { path, source: 'rows.csv' });
    const ended = await ream.wait(job.id);
    if (ended.status !== 'succeeded') throw new Error(`the job ended ${ended.status}`);
    const artifacts = await ream.artifacts(job.id);
    if (artifacts.length !== ROWS * 2) throw new Error(`${artifacts.length} files for ${ROWS} rows`);
  } finally {
    await ream.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), `ream-bench-reports-${side}-`));
await mkdir(dir, { recursive: true });
const started = performance.now();
await (side === 'bare' ? bare(dir) : viaReam(dir));
const wallS = (performance.now() - started) / 1000;
await rm(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ side, rows: ROWS, wallS, nodeMaxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
