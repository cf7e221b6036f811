// `npm run screenshots`: draws each page of the console in headless Chromium into
// docs/screenshots/ (linked from the README and docs/dashboard.md). A throwaway server in a temp
// folder, two PDFs run through it, then one PNG per page (and the job list in the dark theme);
// a spreadsheet through the `rows` pipeline with rules and a report template, for the document
// page of a table (its rows) and of a report.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { createReam } from '../src/runtime/create-ream.ts';
import { startServer } from '../src/server/app.ts';
import type { JobView } from '../src/server/views.ts';
import { makePdf, numberedPages } from '../test/support/make-pdf.ts';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

const dir = await mkdtemp(join(tmpdir(), 'ream-screenshots-'));
const ream = await createReam({ dataDir: dir, threads: 1 });
const server = await startServer({ ream, host: '127.0.0.1', port: 0, metricsHistory: { intervalMs: 1_000 } });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
try {
  const body = new FormData();
  body.append('pipeline', 'rules');
  body.append('options', JSON.stringify({ chunkPages: 2, rules: [{ name: 'invoice', pattern: 'Invoice number (INV-[A-Z]-\\d+)' }] }));
  body.append('file', new Blob([await makePdf({ pages: numberedPages('A', 8) })], { type: 'application/pdf' }), 'invoices-2026.pdf');
  body.append('file', new Blob([await makePdf({ pages: numberedPages('B', 3) })], { type: 'application/pdf' }), 'contract-acme.pdf');
  const answer = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  if (answer.status !== 202) throw new Error(`submit: ${answer.status} ${await answer.text()}`);
  const job = (await answer.json()) as JobView;
  await ream.wait(job.id);
  const [first] = (await (await fetch(`${server.url}/v1/jobs/${job.id}/results`)).json() as { items: Array<{ documentId: string }> }).items;
  const table = await submitRows(server.url);
  const [tableDoc] = await ream.jobDocuments(table.id);

  await mkdir(OUT, { recursive: true });
  const shoot = async (page: Page, name: string, hash: string, ready: string, settleMs = 0, fullPage = false): Promise<void> => {
    await page.goto(`${server.url}/${hash}`);
    await page.locator(ready).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(settleMs);
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
    process.stderr.write(`screenshots: ${name}.png\n`);
  };
  for (const scheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, colorScheme: scheme });
    const page = await context.newPage();
    if (scheme === 'dark') {
      await shoot(page, 'jobs-dark', '#/jobs', '#jobs li');
    } else {
      await shoot(page, 'jobs', '#/jobs', '#jobs li');
      await shoot(page, 'submit', '#/submit', '#files');
      await shoot(page, 'job', `#/jobs/${job.id}`, '.chunk-map .cell.done');
      await shoot(page, 'document', `#/jobs/${job.id}/documents/${first?.documentId ?? ''}`, '.page-image img');
      await shoot(page, 'document-rows', `#/jobs/${table.id}/documents/${tableDoc?.documentId ?? ''}`, '.rows-table tr[data-row="1"]', 500, true);
      await shoot(page, 'search', '#/search?q=INV-A-3&type=pdf&field=invoice%3AINV-A-1', '#search-hits mark');
      // A few samples in, so that the charts have lines.
      await shoot(page, 'operate', '#/operate', '.chart canvas', 9000);
    }
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
}

/** 2,000 order rows through `rows`, with a rule per row and an HTML report per row. */
async function submitRows(url: string): Promise<JobView> {
  const cities = ['Oslo', 'Lima', 'Quito', 'Riga', 'Bern'];
  const lines = ['order,customer,city,total'];
  for (let i = 1; i <= 2_000; i++) lines.push(`ORD-${1000 + i},Customer ${(i * 37) % 211},${cities[i % cities.length] ?? ''},${((i * 7_919) % 5_000) / 10}`);
  const template = '<style>body{font-family:system-ui,sans-serif;margin:1.5rem}h1{font-size:1.3rem;color:#2357c4}td{padding:.2rem 1rem .2rem 0}</style>'
    + '<h1>Order {{ order }}</h1><table><tr><td>Customer</td><td>{{ customer }}</td></tr><tr><td>City</td><td>{{ city }}</td></tr><tr><td>Total</td><td>{{ total }}</td></tr></table>';
  const body = new FormData();
  body.append('pipeline', 'rows');
  body.append('options', JSON.stringify({ rules: [{ name: 'large_total', pattern: String.raw`total: ([4-9]\d\d)`, group: 1 }], template, name: '{{ order }}' }));
  body.append('file', new Blob([lines.join('\n')], { type: 'text/csv' }), 'orders-2026.csv');
  const answer = await fetch(`${url}/v1/jobs`, { method: 'POST', body });
  if (answer.status !== 202) throw new Error(`submit: ${answer.status} ${await answer.text()}`);
  const job = (await answer.json()) as JobView;
  await ream.wait(job.id);
  return job;
}
