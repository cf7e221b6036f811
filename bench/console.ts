// The console's job list with 10,000 jobs in the store, in headless Chromium: time from
// navigation to the first rows drawn, and frames per second while the list is scrolled
// continuously (each frame moves it 120 px; the next pages arrive by cursor as it goes).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pMap from 'p-map';
import { chromium } from 'playwright-core';
import { createReam } from '../src/runtime/create-ream.ts';
import { startServer } from '../src/server/app.ts';
import { makePdf } from '../test/support/make-pdf.ts';

const JOBS = 10_000;
const SCROLL_MS = 5_000;
const RUNS = 3;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

interface ScrollFigures {
  fps: number;
  /** Frames that took over 1.5 × 16.7 ms (a frame missed at 60 Hz). */
  longFrames: number;
  frames: number;
  rowsLoaded: number;
}

export async function run(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-bench-console-'));
  const ream = await createReam({ dataDir: dir, work: false });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--no-first-run'] });
  try {
    const form = new FormData();
    form.append('file', new Blob([await makePdf({ pages: ['one page'] })], { type: 'application/pdf' }), 'one.pdf');
    const stored = (await (await fetch(`${server.url}/v1/documents`, { method: 'POST', body: form })).json()) as { items: Array<{ id: string }> };
    const documentId = stored.items[0]?.id ?? '';
    process.stderr.write(`bench console: ${JOBS} jobs…\n`);
    await pMap(Array.from({ length: JOBS }), async () => {
      const answer = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documents: [documentId] }) });
      if (answer.status !== 202) throw new Error(`submit: ${answer.status}`);
      await answer.arrayBuffer();
    }, { concurrency: 8 });

    const firstRows: number[] = [];
    const scrolls: ScrollFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${server.url}/#/jobs`);
      await page.locator('#jobs li').first().waitFor();
      firstRows.push(performance.now() - started);
      scrolls.push(await page.evaluate(async (ms) => {
        // The page's globals, typed by hand: the bench's tsconfig has no DOM types.
        const win = globalThis as unknown as {
          document: { querySelector(selector: string): { scrollTop: number; textContent: string | null } | null };
          requestAnimationFrame(callback: (now: number) => void): number;
        };
        const list = win.document.querySelector('.virtual');
        if (!list) throw new Error('no job list');
        const frames: number[] = [];
        const end = performance.now() + ms;
        let last = performance.now();
        await new Promise<void>((resolve) => {
          const step = (now: number): void => {
            frames.push(now - last);
            last = now;
            list.scrollTop += 120;
            if (now < end) win.requestAnimationFrame(step);
            else resolve();
          };
          win.requestAnimationFrame(step);
        });
        const count = win.document.querySelector('.count')?.textContent ?? '';
        return { fps: frames.length / (ms / 1000), longFrames: frames.filter((frame) => frame > 25).length, frames: frames.length, rowsLoaded: Number.parseInt(count.replaceAll(',', ''), 10) || 0 };
      }, SCROLL_MS));
      await context.close();
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
    return [
      '## Console: the job list',
      '',
      `${JOBS} jobs in an embedded store (auth off, no worker), the console served by \`startServer\` on 127.0.0.1 and opened in ` +
        `headless Chromium (1200×800, a fresh context per run, ${RUNS} runs). First rows: from \`page.goto\` to the first row drawn ` +
        '(page, script, the API check and the first page of 100 jobs). Scroll: the list scrolled 120 px per animation frame for ' +
        `${SCROLL_MS / 1000} s while pages of 100 arrive by cursor; a long frame is one over 25 ms.`,
      '',
      '| run | first rows (ms) | scroll fps | long frames | rows loaded |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...firstRows.map((ms, i) => `| ${i + 1} | ${Math.round(ms)} | ${scrolls[i]?.fps.toFixed(1)} | ${scrolls[i]?.longFrames} of ${scrolls[i]?.frames} | ${scrolls[i]?.rowsLoaded} |`),
      '',
      `Median first rows ${Math.round(median(firstRows))} ms, median ${median(scrolls.map((s) => s.fps)).toFixed(1)} fps.`,
    ].join('\n');
  } finally {
    await browser.close();
    await server.close();
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
}
