// The renderer's module (and Playwright under it, ~0.4 s to load) is imported with the first
// report, never by a process that makes none.
import type { PdfRenderer } from './pdf-renderer.ts';

/** Pages of the shared renderer (REAM_PDF_PAGES): Chromium pages are ~30–60 MB each. */
const DEFAULT_PAGES = 2;
/** One report's print (REAM_PDF_TIMEOUT_MS). */
const DEFAULT_TIMEOUT_MS = 30_000;
/** One report's PDF at most, in bytes (REAM_PDF_MAX_BYTES): far above a report of text and a few pictures. */
export const DEFAULT_PDF_MAX_BYTES = 64 * 1024 * 1024;
/** One report's PDF at most, in pages (REAM_PDF_MAX_PAGES): a 100,000-row table prints in ~2,000. */
export const DEFAULT_PDF_MAX_PAGES = 5_000;
/** A renderer nobody used for this long is closed; the next report starts another. */
const IDLE_CLOSE_MS = 60_000;

interface Shared {
  renderer: Promise<PdfRenderer>;
  idle?: NodeJS.Timeout;
  users: number;
}

const renderers = new Map<string, Shared>();

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/**
 * Runs `use` with the process's renderer for that Chromium: one browser and one pool of pages
 * for every task of every job on this worker, so that the pool bounds the memory PDFs take
 * however many row batches run at once. Closed after a minute unused, and by {@link closePdfRenderers}.
 */
export async function withPdfRenderer<T>(executablePath: string, use: (renderer: PdfRenderer) => Promise<T>): Promise<T> {
  let shared = renderers.get(executablePath);
  if (shared && (await shared.renderer.catch(() => undefined))?.closed) {
    // Its browser died (crashed, killed): forget it, and start another below.
    if (renderers.get(executablePath) === shared) renderers.delete(executablePath);
    shared = renderers.get(executablePath); // another caller may have started one meanwhile
  }
  if (!shared) {
    const renderer = import('./pdf-renderer.ts').then(({ PdfRenderer }) => PdfRenderer.launch({
      executablePath,
      pages: envInt('REAM_PDF_PAGES', DEFAULT_PAGES),
      timeoutMs: envInt('REAM_PDF_TIMEOUT_MS', DEFAULT_TIMEOUT_MS),
      maxBytes: envInt('REAM_PDF_MAX_BYTES', DEFAULT_PDF_MAX_BYTES),
      maxPages: envInt('REAM_PDF_MAX_PAGES', DEFAULT_PDF_MAX_PAGES),
    }));
    shared = { renderer, users: 0 };
    renderers.set(executablePath, shared);
    // A Chromium that did not start is tried again by the next report, not remembered as broken.
    renderer.catch(() => renderers.delete(executablePath));
  }
  clearTimeout(shared.idle);
  shared.users++;
  try {
    return await use(await shared.renderer);
  } finally {
    const current = shared;
    if (--current.users === 0) {
      current.idle = setTimeout(() => {
        if (renderers.get(executablePath) === current && current.users === 0) {
          renderers.delete(executablePath);
          void current.renderer.then((renderer) => renderer.close(), () => undefined);
        }
      }, IDLE_CLOSE_MS).unref();
    }
  }
}

/** Closes every renderer of the process (the engine's close calls it). */
export async function closePdfRenderers(): Promise<void> {
  const all = [...renderers.values()];
  renderers.clear();
  await Promise.all(all.map(async (shared) => {
    clearTimeout(shared.idle);
    await shared.renderer.then((renderer) => renderer.close(), () => undefined);
  }));
}
