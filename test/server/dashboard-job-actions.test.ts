// A job page's actions that cannot be undone, in Chromium: Cancel job and Delete job act only
// once their question is answered yes; no, or Escape, leaves the job as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient, ReamHttpError, type JobView } from '../../src/client/index.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;

// No work: the jobs stay queued until the page acts on them.
const con = useConsole('dashboard-job-actions', { ream: { work: false } });
let client: ReamClient;

con.before(() => {
  client = new ReamClient({ baseUrl: con.server.url });
});

const submit = (name: string): Promise<JobView> => client.submit({ files: [{ name, data: new TextEncoder().encode(`note ${name}`) }] });

void test('console: Cancel job asks first; no and Escape keep the job running, yes cancels it', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const job = await submit('keep-me.txt');
  await page.goto(`${con.server.url}/#/jobs/${job.id}`);
  await page.locator('#job-status', { hasText: /^queued$/ }).waitFor({ timeout: WAIT_MS });

  await page.getByRole('button', { name: 'Cancel job' }).click();
  const question = page.getByRole('group', { name: 'Cancel job' });
  await question.getByText(/Cancel this job\? Its 1 document not done will not run/).waitFor({ timeout: WAIT_MS });
  assert.equal((await client.getJob(job.id)).status, 'queued', 'a first press only asks');
  await assertAccessible(page, 'job page asking to cancel');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent), 'No, let it run', 'focus on the choice that keeps the job');
  await page.getByRole('button', { name: 'No, let it run' }).click();
  await page.getByRole('button', { name: 'Cancel job' }).waitFor({ timeout: WAIT_MS });

  await page.getByRole('button', { name: 'Cancel job' }).click();
  // Escape once the question is up (a key pressed before it is shown goes to the page, not the question).
  await page.locator('button:focus', { hasText: 'No, let it run' }).waitFor({ timeout: WAIT_MS });
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Cancel job' }).waitFor({ timeout: WAIT_MS });
  assert.equal((await client.getJob(job.id)).status, 'queued', 'no and Escape keep the job');

  await page.getByRole('button', { name: 'Cancel job' }).click();
  await page.getByRole('button', { name: 'Yes, cancel the job' }).click();
  await page.locator('#job-status', { hasText: /^cancelled$/ }).waitFor({ timeout: WAIT_MS });
  assert.equal((await client.getJob(job.id)).status, 'cancelled');
});

void test('console: Delete job asks first, then deletes the job and goes back to the list', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const job = await submit('delete-me.txt');
  await page.goto(`${con.server.url}/#/jobs/${job.id}`);
  await page.locator('#job-status', { hasText: /^queued$/ }).waitFor({ timeout: WAIT_MS });

  await page.getByRole('button', { name: 'Delete job' }).click();
  await page.getByRole('group', { name: 'Delete job' }).getByText(/Delete this job \(it is cancelled first\)/).waitFor({ timeout: WAIT_MS });
  await page.getByRole('button', { name: 'No, keep it' }).click();
  assert.equal((await client.getJob(job.id)).status, 'queued', 'no keeps the job');

  await page.getByRole('button', { name: 'Delete job' }).click();
  await page.getByRole('button', { name: 'Yes, delete the job' }).click();
  await page.waitForURL(/#\/jobs$/, { timeout: WAIT_MS });
  await page.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: WAIT_MS });
  await assert.rejects(client.getJob(job.id), (error: unknown) => error instanceof ReamHttpError && error.httpStatus === 404, 'the job is gone');
  assert.equal(await page.locator(`#jobs li[data-job-id="${job.id}"]`).count(), 0);
});

void test('console: a job deleted from its page goes back to the list as it was left, filter, search and order', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const job = await submit('filtered.txt');
  const list = `#/jobs?status=queued&q=${job.id.slice(0, 14)}&sort=created`;
  await page.goto(`${con.server.url}/${list}`);
  await page.locator(`#jobs li[data-job-id="${job.id}"] a`).click();
  await page.locator('#job-status', { hasText: /^queued$/ }).waitFor({ timeout: WAIT_MS });
  await page.getByRole('button', { name: 'Delete job' }).click();
  await page.getByRole('button', { name: 'Yes, delete the job' }).click();
  await page.waitForURL((url) => url.hash === list, { timeout: WAIT_MS });
  await page.locator('#jobs-empty', { hasText: 'No job matches this filter.' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByLabel('Status').inputValue(), 'queued');
});
