// Chromium for the console's browser tests: launched once per file with an engine and its server
// (`useConsole`), a fresh context per test that fails the test on page errors, dialogs and CSP
// violations, and an axe-core check.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createReam, type Ream, type ReamOptions } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/app.ts';
import { requireOrSkip } from './env.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless Chromium at {@link CHROMIUM}; `undefined` when it is not installed (the tests skip). */
export async function launchChromium(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A fresh browser page (own storage). Uncaught page errors, dialogs (an `alert` from injected
 * markup) and Content-Security-Policy violations fail the test at its end.
 */
export async function openPage(browser: Browser | undefined, t: TestContext, options: { acceptDownloads?: boolean } = {}): Promise<Page> {
  assert.ok(browser);
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('dialog', (dialog) => {
    errors.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) errors.push(message.text());
  });
  t.after(async () => {
    await context.close();
    assert.deepEqual(errors, [], 'no uncaught errors, dialogs or CSP violations in the page');
  });
  return page;
}

let axeSource: Promise<string> | undefined;

/** Runs axe-core in the page (evaluated over the DevTools protocol: the page's CSP allows no injected script). */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(await axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: unknown[] }> }> } }).axe;
    const { violations: found } = await axe.run();
    return found.map((violation) => ({ id: violation.id, impact: violation.impact, nodes: violation.nodes.length }));
  });
  const serious = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  assert.deepEqual(serious, [], `${what}: no serious or critical axe violations`);
}

export interface Served {
  ream: Ream;
  server: RunningServer;
}

export interface ConsoleFixture extends Served {
  /** A temporary folder of the file's tests, removed after them. */
  readonly dir: string;
  readonly browser: Browser | undefined;
  /** A fresh page ({@link openPage}), or `undefined` when Chromium is missing: the test is then skipped (failed under CI). */
  page(t: TestContext, options?: { acceptDownloads?: boolean }): Promise<Page | undefined>;
  /**
   * The file's own `before`, run once the fixture is up (top-level hooks start as they are
   * registered: a plain `before` could run before the server is there).
   */
  before(fn: () => Promise<void> | void): void;
  /** Another engine and its server, in the folder's `name`, closed after the file's tests. */
  serve(name: string, reamOptions?: ReamOptions, serverOptions?: Omit<StartOptions, 'ream'>): Promise<Served>;
}

export interface ConsoleSetup {
  /** Options of the file's engine (in `dir`/data, one thread unless said). */
  ream?: ReamOptions;
  /** Options of its server (127.0.0.1, a free port unless said). */
  server?: Omit<StartOptions, 'ream'>;
  /** false: no engine and server for the whole file; each test starts its own with `serve`. */
  serve?: boolean;
}

/**
 * Registers the file's `before` and `after`: a temporary folder, Chromium and (unless
 * `serve: false`) an engine with its server. The fixture's fields are set once `before` has run.
 */
export function useConsole(name: string, setup: ConsoleSetup = {}): ConsoleFixture {
  let dir: string | undefined;
  let browser: Browser | undefined;
  let served: Served | undefined;
  const closers: Array<() => Promise<void>> = [];
  const serve = async (folder: string, reamOptions: ReamOptions = {}, serverOptions: Omit<StartOptions, 'ream'> = {}): Promise<Served> => {
    assert.ok(dir);
    const ream = await createReam({ dataDir: join(dir, folder), threads: 1, ...reamOptions });
    closers.push(() => ream.close());
    const server = await startServer({ ream, host: '127.0.0.1', port: 0, ...serverOptions });
    closers.push(() => server.close());
    return { ream, server };
  };
  const { promise: ready, resolve, reject } = Promise.withResolvers<void>();
  ready.catch(() => undefined); // failed in its own hook; the file's hooks that wait for it fail too
  before(async () => {
    try {
      dir = await mkdtemp(join(tmpdir(), `ream-${name}-`));
      browser = await launchChromium();
      if (setup.serve !== false) served = await serve('data', setup.ream, setup.server);
      resolve();
    } catch (error) {
      reject(error);
      throw error;
    }
  });
  after(async () => {
    await browser?.close();
    for (const close of closers.reverse()) await close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  const started = (): Served => {
    assert.ok(served, 'the file\'s engine and server are started in its before hook, unless serve: false');
    return served;
  };
  return {
    get dir() {
      assert.ok(dir);
      return dir;
    },
    get browser() {
      return browser;
    },
    get ream() {
      return started().ream;
    },
    get server() {
      return started().server;
    },
    async page(t, options) {
      if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return undefined;
      return openPage(browser, t, options);
    },
    before(fn) {
      before(async () => {
        await ready;
        await fn();
      });
    },
    serve,
  };
}
