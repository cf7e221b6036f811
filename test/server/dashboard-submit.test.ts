// The New job page, in Chromium: a whole folder chosen (subfolders walked), each file uploaded,
// and a webhook with a secret that is called, signed, when the job ends.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { signWebhook } from '../../src/runtime/webhook-delivery.ts';
import { startReceiver, type Receiver } from '../runtime/webhook-receiver.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';
import { makePdf } from '../support/make-pdf.ts';

const WAIT_MS = 30_000;
const SECRET = 'hook-secret-from-the-form';

let receiver: Receiver;

// The receiver is on loopback: allowed here as an operator allows an internal receiver.
const con = useConsole('dashboard-submit', { ream: { webhooks: { allowPrivate: ['127.0.0.0/8'] } } });

con.before(async () => {
  receiver = await startReceiver(() => 204);
});
after(async () => {
  await receiver?.close();
});

void test('console: a chosen folder uploads every file in it and its subfolders; the webhook from the form is called, signed', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const folder = join(con.dir, 'invoices');
  await mkdir(join(folder, '2024'), { recursive: true });
  await writeFile(join(folder, 'a.pdf'), await makePdf({ pages: ['invoice alpha'] }));
  await writeFile(join(folder, '2024', 'b.pdf'), await makePdf({ pages: ['invoice beta', 'second page'] }));
  await writeFile(join(folder, '2024', 'note.txt'), 'a note in a subfolder\n');

  await page.goto(`${con.server.url}/#/submit`);
  await page.locator('#folder').setInputFiles(folder);
  const uploads = page.getByRole('list', { name: 'Files to upload' }).locator('li .name');
  await page.getByRole('list', { name: 'Files to upload' }).locator('li').nth(2).waitFor({ timeout: WAIT_MS });
  assert.deepEqual((await uploads.allTextContents()).sort(), ['invoices/2024/b.pdf', 'invoices/2024/note.txt', 'invoices/a.pdf'], 'every file, named by its path in the folder');
  await page.getByLabel('Webhook URL (optional)').fill(receiver.url);
  await page.getByLabel('Webhook secret (optional: signs each delivery)').fill(SECRET);
  await assertAccessible(page, 'new job with a folder');
  await page.getByRole('button', { name: 'Start job' }).click();

  await page.waitForURL(/#\/jobs\//, { timeout: WAIT_MS });
  const jobId = /#\/jobs\/([^/?]+)/.exec(page.url())?.[1] ?? '';
  await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
  const results = await new ReamClient({ baseUrl: con.server.url }).results(jobId);
  assert.deepEqual(results.map((output) => [output.source, output.pageCount]).sort(), [['a.pdf', 1], ['b.pdf', 2], ['note.txt', 1]], 'three documents; the server keeps each file\'s own name');

  await receiver.received(1);
  const [delivery] = receiver.deliveries;
  assert.ok(delivery);
  assert.equal(delivery.event, 'job.completed');
  assert.equal(delivery.job.id, jobId);
  const header = String(delivery.headers['ream-signature'] ?? '');
  const stamp = Number(/^t=(\d+),/.exec(header)?.[1]);
  assert.equal(header, signWebhook(SECRET, delivery.body, stamp), 'signed with the secret typed in the form');
  assert.ok(!delivery.body.includes(SECRET), 'the secret is never in the delivery');
});

void test('console: a file the server refuses is not offered a Retry, and Start job says to remove it', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const gif = join(con.dir, 'logo.gif');
  await writeFile(gif, Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(64)]));
  await page.goto(`${con.server.url}/#/submit`);
  await page.locator('#files').setInputFiles(gif);
  const item = page.getByRole('list', { name: 'Files to upload' }).locator('li').first();
  await item.locator('.error').waitFor({ timeout: WAIT_MS });
  assert.match(await item.locator('.error').textContent() ?? '', /GIF/i, 'the refusal says what the file is');
  assert.equal(await item.getByRole('button', { name: /^Retry the upload/ }).count(), 0, 'no Retry for a refusal');
  await page.getByText(/Remove the 1 file the server refused to start the job\./).waitFor({ timeout: WAIT_MS });
});

void test('console: options typed as JSON before the pipelines have loaded are carried into the form, and what it cannot hold is said', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The server's answer, held back until the user has typed: a slow link, made certain.
  await page.route('**/v1/pipelines', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${con.server.url}/#/submit`);
  await page.getByLabel('Options (JSON)').fill('{"chunkPages": 3, "ocr": "never", "colour": "red"}');
  release();
  await page.getByLabel('chunkPages').waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByLabel('chunkPages').inputValue(), '3');
  assert.equal(await page.getByLabel('ocr', { exact: true }).inputValue(), 'never');
  assert.match(await page.locator('#submit-error').textContent() ?? '', /colour are not options of extract/);
});
