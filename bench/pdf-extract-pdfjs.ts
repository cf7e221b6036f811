// Child process of bench/pdf-extract.ts: plain pdf.js, the floor ream's overhead is measured
// against. `node bench/pdf-extract-pdfjs.ts <threads> <file>...` → one JSON line on stdout.
// `threads` worker threads take whole files from a shared list (largest first) and run
// getTextContent on every page with CMaps and standard fonts configured, joining `str`s.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runBareEngine, type Done } from './bare-engine.ts';

const PDFJS_DIR = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));


async function extractFile(path: string): Promise<Done> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const loading = getDocument({
    data: new Uint8Array(await readFile(path)),
    cMapUrl: join(PDFJS_DIR, 'cmaps') + '/',
    cMapPacked: true,
    standardFontDataUrl: join(PDFJS_DIR, 'standard_fonts') + '/',
    useSystemFonts: false,
    disableFontFace: true,
    verbosity: 0,
  });
  const doc = await loading.promise;
  let chars = 0;
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const content = await page.getTextContent();
    let text = '';
    for (const item of content.items) if ('str' in item) text += item.hasEOL ? `${item.str}\n` : item.str;
    chars += text.length;
    page.cleanup();
  }
  const pages = doc.numPages;
  await loading.destroy();
  return { pages, chars };
}

await runBareEngine(import.meta.url, extractFile);
