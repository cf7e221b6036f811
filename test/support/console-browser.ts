// Chromium for the console's browser tests: launched once per file, a fresh context per test
// that fails the test on page errors, dialogs and CSP violations, and an axe-core check.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

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
