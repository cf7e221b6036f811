// The PDF renderer against a hostile report: no request leaves the page, no script runs, a page
// that hangs is cut off. The system Chromium, one small pool for the whole file.
import assert from 'node:assert/strict';
import { createCanvas } from '@napi-rs/canvas';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { chromiumPath } from '../../src/reports/pdf/chromium-path.ts';
import { DEFAULT_PDF_OPTIONS, pdfOptions } from '../../src/reports/pdf/pdf-options.ts';
import { PdfRenderer } from '../../src/reports/pdf/pdf-renderer.ts';
import { closePdfRenderers, withPdfRenderer } from '../../src/reports/pdf/shared-renderer.ts';
import { requireOrSkip } from '../support/env.ts';

const CHROMIUM = '/usr/bin/chromium';
/** The test renderer's PDF size limit: far above the small reports here. */
const MAX_PDF_BYTES = 200_000;
/** The test renderer's page limit: above the ~900 pages of the test of MAX_PDF_BYTES. */
const MAX_PDF_PAGES = 2_000;
let renderer: PdfRenderer | undefined;
let server: Server;
const hits: string[] = [];
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-pdf-'));
  server = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  if (existsSync(CHROMIUM)) renderer = await PdfRenderer.launch({ executablePath: CHROMIUM, pages: 2, timeoutMs: 5_000, maxBytes: MAX_PDF_BYTES, maxPages: MAX_PDF_PAGES });
});

after(async () => {
  await renderer?.close();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function text(pdf: Buffer): Promise<string> {
  const path = join(dir, `${hits.length}-${Date.now()}.pdf`);
  await writeFile(path, pdf);
  return execFileSync('pdftotext', [path, '-'], { encoding: 'utf8' });
}

describe('PDF renderer', () => {
  test('a hostile report reaches nothing and runs nothing; pages are reused', async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const hostile = `<html><head><link rel="stylesheet" href="${origin}/css"><style>@import url("${origin}/import"); body { background: url("${origin}/bg"); }</style></head>
      <body><p id="p">static text</p><img src="${origin}/img"><iframe src="${origin}/frame"></iframe><img src="file:///etc/hostname">
      <script>document.getElementById('p').textContent = 'SCRIPT RAN'; fetch('${origin}/fetch');</script>
      <meta http-equiv="refresh" content="0; url=${origin}/refresh"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></body></html>`;
    const results = await Promise.all([1, 2, 3, 4].map(() => renderer!.render(hostile, DEFAULT_PDF_OPTIONS)));
    for (const pdf of results) {
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      const printed = await text(pdf);
      assert.match(printed, /static text/);
      assert.doesNotMatch(printed, /SCRIPT RAN/);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(hits, [], 'no request reached the server');
  });

  test('header and footer print on each page', async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const options = pdfOptions({ margin: '20mm', header: '<div style="font-size:9px">ACME invoices</div>', footer: '<div style="font-size:9px">page <span class="pageNumber"></span> of <span class="totalPages"></span></div>' });
    const printed = await text(await renderer!.render(`<p>one</p><p style="page-break-before: always">two</p>`, options));
    assert.match(printed, /ACME invoices[\s\S]*page 1 of 2[\s\S]*ACME invoices[\s\S]*page 2 of 2/);
  });

  test('a header Chromium cannot print fails that report with template_render_failed, not retried; the next prints', async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    // A CSS escape gets past the check at submit (see the next test): `u\72l(` is `url(`.
    const header = '<style>@font-face { font-family: x; src: u\\72l(http://127.0.0.1:1/font) } span { font-family: x }</style><span>ACME</span>';
    await assert.rejects(renderer!.render('<p>one</p>', { ...DEFAULT_PDF_OPTIONS, header }), (error: ReamError) => {
      assert.equal(error.code, 'template_render_failed');
      assert.equal(error.retryable, false);
      assert.match(error.message, /the PDF could not be printed: .*Printing failed/);
      return true;
    });
    assert.match(await text(await renderer!.render('<p>after the refused one</p>', DEFAULT_PDF_OPTIONS)), /after the refused one/);
  });

  test('a report whose PDF is larger than maxBytes fails with resource_limit, not retried; the next prints', async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    // 37 bytes of HTML, ~900 pages: about 280 KB of PDF.
    await assert.rejects(renderer!.render('<div style="height:1000000px">x</div>', DEFAULT_PDF_OPTIONS), (error: ReamError) => {
      assert.equal(error.code, 'resource_limit');
      assert.equal(error.retryable, false);
      assert.match(error.message, new RegExp(`the PDF has more than ${MAX_PDF_BYTES} bytes, the most a report may have \\(REAM_PDF_MAX_BYTES\\)`));
      return true;
    });
    assert.match(await text(await renderer!.render('<p>after the large one</p>', DEFAULT_PDF_OPTIONS)), /after the large one/);
  });

  test('a report prints as page.pdf() printed it: untagged, a 3,000-row table in ~120 KB, not 3 MB', async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const rows = Array.from({ length: 3000 }, (_, i) => `<tr><td>${i}</td><td>Invoice ${i}</td><td>${(i * 13.7).toFixed(2)}</td></tr>`).join('');
    const pdf = await renderer!.render(`<h1>Invoices</h1><table>${rows}</table>`, DEFAULT_PDF_OPTIONS);
    assert.ok(pdf.length < MAX_PDF_BYTES, `${pdf.length} bytes`);
    assert.equal(pdf.includes('/StructTreeRoot'), false, 'no tagged structure');
    assert.match(await text(pdf), /Invoice 2999/);
  });

  test('a PDF far over maxBytes is given up as it streams: this process never holds it whole', { timeout: 120_000 }, async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    // A 300 px tile of noise under a filter is a new picture on each page: 4 pages, ~68 MB of PDF.
    const canvas = createCanvas(300, 300);
    const context = canvas.getContext('2d');
    const noise = context.createImageData(300, 300);
    noise.data.set(randomBytes(noise.data.length));
    context.putImageData(noise, 0, 0);
    const tile = canvas.toBuffer('image/png').toString('base64');
    const html = `<style>div { background: url(data:image/png;base64,${tile}); height: 1000px; page-break-after: always }</style>`
      + [1, 2, 3, 4].map((degrees) => `<div style="filter: hue-rotate(${degrees}deg)"></div>`).join('');
    // A renderer of its own: printing the pages takes Chromium longer than the others' timeout.
    const patient = await PdfRenderer.launch({ executablePath: CHROMIUM, pages: 1, timeoutMs: 60_000, maxBytes: MAX_PDF_BYTES, maxPages: MAX_PDF_PAGES });
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 1);
    try {
      await assert.rejects(patient.render(html, DEFAULT_PDF_OPTIONS), (error: ReamError) => error.code === 'resource_limit');
    } finally {
      clearInterval(sampler);
      await patient.close();
    }
    // Held whole it took ~144 MB of buffers (the PDF, its chunks and their base64); read as a stream, ~17 MB.
    assert.ok(peak - before < 48 * 2 ** 20, `buffers grew by ${Math.round((peak - before) / 2 ** 20)} MB`);
  });

  test('a report of more than maxPages pages fails with resource_limit: a tall one is counted before Chromium prints it', { timeout: 120_000 }, async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const short = await PdfRenderer.launch({ executablePath: CHROMIUM, pages: 1, timeoutMs: 20_000, maxBytes: 64 * 2 ** 20, maxPages: 20 });
    const tooMany = (error: ReamError) => {
      assert.equal(error.code, 'resource_limit');
      assert.equal(error.retryable, false);
      assert.match(error.message, /^the PDF has more than 20 pages, the most a report may have \(REAM_PDF_MAX_PAGES\)$/);
      return true;
    };
    try {
      // 40 bytes of HTML, ~9,000 pages: printed whole it took Chromium over a minute and ended in a timeout.
      const started = Date.now();
      await assert.rejects(short.render('<div style="height:10000000px">x</div>', DEFAULT_PDF_OPTIONS), tooMany);
      assert.ok(Date.now() - started < 15_000, `refused after ${Date.now() - started} ms`);
      // Short on screen, long on paper: each div its own page. Chromium prints 21 of them, not 5,000.
      const breaks = (pages: number) => Array.from({ length: pages }, (_, i) => `<div style="page-break-after: always">page ${i + 1}</div>`).join('');
      await assert.rejects(short.render(breaks(5_000), DEFAULT_PDF_OPTIONS), tooMany);
      const twenty = await short.render(breaks(20), DEFAULT_PDF_OPTIONS);
      assert.match(await text(twenty), /page 1\b[\s\S]*page 20\b/);
      assert.match(await text(await short.render('<div style="height:10000px">x</div>', { ...DEFAULT_PDF_OPTIONS, landscape: true })), /x/);
    } finally {
      await short.close();
    }
  });

  test('the shared renderer is reused, and replaced once its browser is gone', async (t) => {
    if (!requireOrSkip(t, renderer !== undefined, `Chromium at ${CHROMIUM}`)) return;
    try {
      const first = await withPdfRenderer(CHROMIUM, (shared) => Promise.resolve(shared));
      assert.equal(await withPdfRenderer(CHROMIUM, (shared) => Promise.resolve(shared)), first, 'one renderer per process');
      await first.close(); // as if Chromium had crashed: the browser is gone
      const pdf = await withPdfRenderer(CHROMIUM, async (shared) => {
        assert.notEqual(shared, first);
        return shared.render('<p>after the crash</p>', DEFAULT_PDF_OPTIONS);
      });
      assert.match(await text(pdf), /after the crash/);
    } finally {
      await closePdfRenderers();
    }
  });

  test('refuses print options it does not know, and a header or footer that loads anything; no Chromium is renderer_unavailable', () => {
    assert.throws(() => pdfOptions({ pageSize: 'B7' }), (error: ReamError) => error.code === 'validation_failed');
    assert.throws(() => pdfOptions({ margin: '1e9mm' }), (error: ReamError) => error.code === 'validation_failed');
    assert.throws(() => pdfOptions({ path: '/tmp/x.pdf' }), (error: ReamError) => error.code === 'validation_failed');
    for (const header of ['<link rel=stylesheet href="http://127.0.0.1:1/x">', '<LINK REL="preload" href="/x" as="style">', '<style>@import "x.css";</style>', '<div style="background: url( \'http://127.0.0.1:1/bg\')">x</div>']) {
      assert.throws(() => pdfOptions({ header }), (error: ReamError) => error.code === 'validation_failed' && /may not load anything/.test(error.message), header);
      assert.throws(() => pdfOptions({ footer: header }), (error: ReamError) => error.code === 'validation_failed' && /pdf footer may not load/.test(error.message), header);
    }
    assert.ok(pdfOptions({ header: '<style>span { color: red; background: url(data:image/gif;base64,R0lGODlhAQABAAAAACw=) }</style><span class="pageNumber"></span>' }).header);
    assert.throws(() => chromiumPath({ REAM_CHROMIUM_PATH: '/nonexistent/chromium' }), (error: ReamError) => error.code === 'renderer_unavailable' && /apt-get install chromium/.test(error.message));
  });
});
