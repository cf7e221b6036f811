import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { ReamError, toReamError } from '../../errors.ts';
import { CHROMIUM_INSTALL_HINT } from './chromium-path.ts';
import type { PdfOptions } from './pdf-options.ts';

/**
 * What a report may load: only `data:` images, styles and fonts. Set as the document's first
 * element (after its doctype, so that the page keeps its rendering mode): a policy can only be
 * tightened by what follows, never lifted, so the template cannot undo it.
 */
const REPORT_CSP = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline' data:">`;
const DOCTYPE = /^\s*<!doctype[^>]*>/i;

/** `html` with the policy in front of anything the template wrote. */
function withPolicy(html: string): string {
  const doctype = DOCTYPE.exec(html)?.[0] ?? '';
  return `${doctype}${REPORT_CSP}${html.slice(doctype.length)}`;
}

export interface PdfRendererOptions {
  executablePath: string;
  /** Pages kept open and reused, one report each at a time. */
  pages: number;
  /** One report's load and print, in ms; a page that overruns is closed and replaced. */
  timeoutMs: number;
  /**
   * Most bytes one report's PDF may have; a larger one fails with `resource_limit` and is not
   * stored. A template of a few KB can print a PDF of hundreds of MB (a tiled background under a
   * CSS filter is drawn as a new raster image on every page).
   */
  maxBytes: number;
  /**
   * Most pages one report's PDF may have; a longer one fails with `resource_limit`. Chromium makes
   * the whole PDF before handing out its first byte, so `maxBytes` alone bounds what this process
   * reads, not what Chromium makes: a div a few million pixels tall is thousands of pages, printed
   * for minutes. Only the first `maxPages + 1` pages are ever asked for.
   */
  maxPages: number;
}

interface Slot {
  page: Page;
  /** The page's DevTools session: prints the PDF as a stream, read within `maxBytes`. */
  session: CDPSession;
}

/** Bytes of the PDF asked of Chromium at a time. */
const READ_BYTES = 1024 * 1024;
/** Paper sizes in inches, as Chromium's print takes them. */
const PAPER: Readonly<Record<string, { width: number; height: number }>> = {
  A3: { width: 11.7, height: 16.54 },
  A4: { width: 8.27, height: 11.7 },
  A5: { width: 5.83, height: 8.27 },
  Letter: { width: 8.5, height: 11 },
  Legal: { width: 8.5, height: 14 },
  Tabloid: { width: 11, height: 17 },
};
/**
 * A report taller on screen than this share of `maxPages` is counted in print first: asking for
 * the one page past the limit fails at once when there is none, so only a long report pays for it.
 * On screen the page is wider than on paper, so its text is shorter than it will print.
 */
const COUNT_PAGES_FIRST = 1 / 4;
/** Chromium's answer to a print of pages the report does not have. */
const NO_SUCH_PAGE = /Page range exceeds page count/;
/** A page object in Chromium's (Skia's) PDF, not the `/Pages` tree above it. */
const PAGE_OBJECT = /\/Type\s*\/Page\b(?!s)/g;
/** CSS pixels (1/96 in) per unit of a margin. */
const PIXELS: Readonly<Record<string, number>> = { px: 1, in: 96, cm: 37.8, mm: 3.78 };

/** A margin (`12mm`, `0.5in`, checked by pdf-options.ts) in inches. */
function inches(length: string): number {
  const unit = length.slice(-2);
  return (Number(length.slice(0, -2)) * (PIXELS[unit] ?? 1)) / 96;
}

/**
 * Prints HTML to PDF in a headless Chromium: a small pool of pages reused across reports, each
 * render under a timeout, JavaScript off, every request refused but the report itself. A
 * template is hostile: it may try to fetch, to script, to loop; none of that gets out.
 */
export class PdfRenderer {
  readonly #browser: Browser;
  readonly #context: BrowserContext;
  readonly #options: PdfRendererOptions;
  readonly #idle: Slot[] = [];
  readonly #waiting: ((slot: Slot) => void)[] = [];
  #closed = false;

  private constructor(browser: Browser, context: BrowserContext, options: PdfRendererOptions) {
    this.#browser = browser;
    this.#context = context;
    this.#options = options;
  }

  static async launch(options: PdfRendererOptions): Promise<PdfRenderer> {
    let browser: Browser;
    try {
      // Loaded on the first launch: playwright-core takes half a second to load, which every
      // process that never prints a PDF (a `ream rows` with rules, a worker) would pay.
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: options.executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions'] });
    } catch (error) {
      throw ReamError.nonRetryable('renderer_unavailable', `Chromium at ${options.executablePath} did not start (${toReamError(error).message.split('\n')[0]}): ${CHROMIUM_INSTALL_HINT}`);
    }
    const context = await browser.newContext({ javaScriptEnabled: false, offline: false, acceptDownloads: false, serviceWorkers: 'block' });
    const renderer = new PdfRenderer(browser, context, options);
    // A browser that crashed or was killed takes no more reports: the next user launches another.
    browser.on('disconnected', () => {
      renderer.#closed = true;
    });
    for (let i = 0; i < Math.max(1, options.pages); i++) renderer.#idle.push(await renderer.#newSlot());
    return renderer;
  }

  /** Closed, or its browser is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  get pages(): number {
    return this.#options.pages;
  }

  async #newSlot(): Promise<Slot> {
    const page = await this.#context.newPage();
    // Belt and braces behind the policy: no request leaves the page. A navigation away (a meta
    // refresh, a frame) is answered 204, which leaves the page where it is; an abort would
    // replace it with an error page mid-print.
    await page.route('**/*', (route) => (route.request().isNavigationRequest() ? route.fulfill({ status: 204 }) : route.abort('blockedbyclient')));
    return { page, session: await this.#context.newCDPSession(page) };
  }

  /**
   * Prints the page's PDF as a stream read a megabyte at a time, given up as soon as it passes
   * `maxBytes` (`resource_limit`): a PDF over the limit is never held whole in this process
   * (Playwright's `page.pdf()` held it whole, and in base64 besides, before its size was known).
   * A report of more than `maxPages` pages fails with `resource_limit` too, having printed at most
   * one page more (a long one is counted before it prints: Chromium is not kept busy with it).
   */
  async #print(slot: Slot, options: PdfOptions): Promise<Buffer> {
    const paper = PAPER[options.pageSize] ?? PAPER.A4!;
    const margin = inches(options.margin);
    const print = {
      transferMode: 'ReturnAsStream' as const,
      landscape: options.landscape,
      printBackground: true,
      paperWidth: paper.width,
      paperHeight: paper.height,
      marginTop: margin,
      marginBottom: margin,
      marginLeft: margin,
      marginRight: margin,
      displayHeaderFooter: options.header !== undefined || options.footer !== undefined,
      headerTemplate: options.header ?? '<span></span>',
      footerTemplate: options.footer ?? '<span></span>',
      // Chromium's own defaults are not Playwright's page.pdf(): left out, the PDF is tagged
      // (an accessibility tree of every cell), 27 times the size and twice as slow to print.
      scale: 1,
      preferCSSPageSize: false,
      generateTaggedPDF: false,
      generateDocumentOutline: false,
    };
    const { maxPages } = this.#options;
    const pageInches = (options.landscape ? paper.width : paper.height) - 2 * margin;
    const { cssContentSize } = await slot.session.send('Page.getLayoutMetrics');
    if (cssContentSize.height / (pageInches * 96) > maxPages * COUNT_PAGES_FIRST) {
      const past = await slot.session.send('Page.printToPDF', { ...print, pageRanges: String(maxPages + 1) }).catch((error: unknown) => {
        if (NO_SUCH_PAGE.test(toReamError(error).message)) return undefined;
        throw error;
      });
      if (past !== undefined) {
        if (past.stream !== undefined) await slot.session.send('IO.close', { handle: past.stream }).catch(() => undefined);
        throw this.#tooManyPages();
      }
    }
    // Past the limit only by the one page that says so, however long the report is.
    const { stream } = await slot.session.send('Page.printToPDF', { ...print, pageRanges: `1-${maxPages + 1}` });
    if (stream === undefined) throw new Error('Chromium returned no PDF stream');
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for (;;) {
        const read = await slot.session.send('IO.read', { handle: stream, size: READ_BYTES });
        const chunk = Buffer.from(read.data, read.base64Encoded === true ? 'base64' : 'utf8');
        size += chunk.length;
        if (size > this.#options.maxBytes) {
          throw ReamError.nonRetryable('resource_limit', `the PDF has more than ${this.#options.maxBytes} bytes, the most a report may have (REAM_PDF_MAX_BYTES)`, {
            details: { maxBytes: this.#options.maxBytes },
          });
        }
        chunks.push(chunk);
        if (read.eof) {
          const pdf = Buffer.concat(chunks, size);
          if ((pdf.toString('latin1').match(PAGE_OBJECT)?.length ?? 0) > maxPages) throw this.#tooManyPages();
          return pdf;
        }
      }
    } finally {
      await slot.session.send('IO.close', { handle: stream }).catch(() => undefined);
    }
  }

  #tooManyPages(): ReamError {
    const { maxPages } = this.#options;
    return ReamError.nonRetryable('resource_limit', `the PDF has more than ${maxPages} pages, the most a report may have (REAM_PDF_MAX_PAGES)`, { details: { maxPages } });
  }

  async #acquire(): Promise<Slot> {
    const slot = this.#idle.pop();
    if (slot) return slot;
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(slot: Slot): void {
    const next = this.#waiting.shift();
    if (next) next(slot);
    else this.#idle.push(slot);
  }

  /**
   * The PDF of `html`. Throws `timeout` when the page overruns, `renderer_unavailable` once closed
   * (retried), `template_render_failed` when Chromium does not print it and `resource_limit` when
   * its PDF is larger than `maxBytes` (neither retried).
   */
  async render(html: string, options: PdfOptions): Promise<Buffer> {
    if (this.#closed) throw ReamError.retryable('renderer_unavailable', 'the PDF renderer is closed');
    let slot = await this.#acquire();
    let timer: NodeJS.Timeout | undefined;
    try {
      const print = (async () => {
        await slot.page.setContent(withPolicy(html), { waitUntil: 'load', timeout: this.#options.timeoutMs });
        return this.#print(slot, options);
      })();
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(ReamError.nonRetryable('timeout', `the PDF took longer than ${this.#options.timeoutMs} ms to print`)), this.#options.timeoutMs);
      });
      print.catch(() => undefined); // its failure is the race's, or comes after the timeout
      return await Promise.race([print, expired]);
    } catch (error) {
      // A report over the size limit printed like any other: its page is fine for the next one.
      if (error instanceof ReamError && error.code === 'resource_limit') throw error;
      // A page that overran or broke is not trusted with the next report.
      await slot.page.close().catch(() => undefined);
      if (this.#closed) throw ReamError.retryable('renderer_unavailable', 'the PDF renderer was closed');
      slot = await this.#newSlot();
      if (error instanceof ReamError) throw error;
      // The browser is alive, so Chromium refused this report (a header that loads a stylesheet
      // fails every print): printing it again fails the same way, and retrying the batch would
      // fail its other rows with it. The row fails alone and keeps its cells.
      throw ReamError.nonRetryable('template_render_failed', `the PDF could not be printed: ${toReamError(error).message.split('\n')[0]}`);
    } finally {
      clearTimeout(timer);
      this.#release(slot);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#browser.close().catch(() => undefined);
  }
}
