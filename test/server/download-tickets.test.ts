// Browser downloads without a key in the URL: POST /v1/download-tickets answers the download's URL
// with a single-use ticket bound to that path, query and caller. Over HTTP with auth on: a ticket
// opens its file once, expires, dies with its API key, opens no other URL, is refused for another tenant's job, and never
// reaches the request log or the audit log. CSV downloads guard formula-like text cells.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';

const RULES = [
  { name: 'customer', pattern: 'Customer: (.+)', group: 1 },
  { name: 'total', pattern: 'Total due: (\\S+)', group: 1 },
];
const TTL_MS = 1_500;

let dir: string;
let ream: Ream;
let server: RunningServer;
let keys: TenantKeys;
let a: ReamClient;
let job: JobView;
const logLines: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-download-tickets-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, downloadTicketTtlMs: TTL_MS, logger: { level: 'info', stream } });
  keys = await issueTenantKeys(ream);
  a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  const pdf = await makePdf({ pages: ['Customer: =HYPERLINK("http://evil.example","x")', 'Total due: -3'] });
  job = await a.submit({ pipeline: 'rules', options: { rules: RULES }, files: [{ name: 'invoice.pdf', data: pdf }] });
  await a.wait(job.id);
});
after(async () => {
  await server?.close();
  await ream?.close();
  await rm(dir, { recursive: true, force: true });
});

async function ticket(path: string, key: string = keys.a): Promise<Response> {
  return fetch(`${server.url}/v1/download-tickets`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ path }) });
}

async function ticketUrl(path: string): Promise<string> {
  const response = await ticket(path);
  assert.equal(response.status, 201, await response.clone().text());
  const body = (await response.json()) as { url: string; expiresAt: number };
  assert.ok(body.expiresAt > Date.now() && body.expiresAt <= Date.now() + TTL_MS);
  assert.match(body.url, /^\/v1\/jobs\/[^?]+\?(.+&)?ticket=dlt_[A-Za-z0-9_-]{43}$/);
  return body.url;
}

async function problemOf(response: Response): Promise<{ status: number; code: string; detail: string }> {
  const body = (await response.json()) as { code: string; detail: string };
  return { status: response.status, code: body.code, detail: body.detail };
}

describe('download tickets', { timeout: 60_000 }, () => {
  test('a ticket opens its download once, without Authorization, as the caller', async () => {
    const path = `/v1/jobs/${job.id}/download?format=csv`;
    const url = await ticketUrl(path);
    assert.ok(url.startsWith(`${path}&ticket=`));
    const first = await fetch(`${server.url}${url}`);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-disposition') ?? '', new RegExp(`job-${job.id}\\.csv`));
    const rows: string[][] = parse(await first.text());
    assert.equal(rows.length, 3);

    const again = await problemOf(await fetch(`${server.url}${url}`));
    assert.equal(again.status, 401);
    assert.equal(again.code, 'unauthorized');
    assert.match(again.detail, /invalid, expired or already used download ticket/);

    // The SDK's helper: an absolute URL; artifacts.zip of a job without reports is an empty zip.
    const { url: zipUrl } = await a.downloadUrl(a.artifactPath(job.id));
    assert.ok(zipUrl.startsWith(`${server.url}/v1/jobs/${job.id}/artifacts.zip?ticket=`));
    const zip = await fetch(zipUrl);
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
  });

  test('a ticket of an API key revoked since it was issued is refused', async () => {
    const { store } = adaptersOf(ream);
    const issued = await issueApiKey(store, { tenantId: 'tenant-a', name: 'soon revoked', role: 'user' });
    const response = await ticket(`/v1/jobs/${job.id}/download?format=json`, issued.token);
    assert.equal(response.status, 201);
    const { url } = (await response.json()) as { url: string };
    await store.revokeApiKey(issued.record.id, Date.now());
    const refused = await problemOf(await fetch(`${server.url}${url}`));
    assert.deepEqual([refused.status, refused.code], [401, 'unauthorized']);
    assert.match(refused.detail, /has been revoked/);
    // The other key of the tenant still opens its own.
    assert.equal((await fetch(`${server.url}${await ticketUrl(`/v1/jobs/${job.id}/download?format=json`)}`)).status, 200);
  });

  test('an expired ticket is refused', async () => {
    const url = await ticketUrl(`/v1/jobs/${job.id}/download?format=json`);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 200));
    const refused = await problemOf(await fetch(`${server.url}${url}`));
    assert.deepEqual([refused.status, refused.code], [401, 'unauthorized']);
  });

  test('a ticket opens only its own path and query, and is used up by a wrong try', async () => {
    const url = await ticketUrl(`/v1/jobs/${job.id}/download?format=csv`);
    const ticketParam = url.slice(url.indexOf('ticket='));
    const other = await problemOf(await fetch(`${server.url}/v1/jobs/${job.id}/download?format=json&${ticketParam}`));
    assert.equal(other.status, 401);
    assert.match(other.detail, /issued for another URL/);
    assert.equal((await fetch(`${server.url}${url}`)).status, 401, 'burnt by the wrong try');

    // Same query in another order is the same request.
    const two = await ticketUrl(`/v1/jobs/${job.id}/download?format=csv&formulas=keep`);
    const reordered = `/v1/jobs/${job.id}/download?${two.slice(two.indexOf('ticket='))}&formulas=keep&format=csv`;
    assert.equal((await fetch(`${server.url}${reordered}`)).status, 200);

    // A ticket is no credential for any other route.
    const three = await ticketUrl(`/v1/jobs/${job.id}/download`);
    assert.equal((await fetch(`${server.url}/v1/jobs/${job.id}?${three.slice(three.indexOf('ticket='))}`)).status, 401);
  });

  test('a path that is not a readable download of the caller is refused with validation_failed', async () => {
    const b = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
    const bJob = await b.submit({ files: [{ name: 'b.pdf', data: await makePdf({ pages: ['b'] }) }] });
    for (const path of [
      `/v1/jobs/${bJob.id}/download?format=csv`, // another tenant's job
      '/v1/jobs/no-such-job/download',
      `/v1/jobs/${job.id}`, // not a download
      `/v1/jobs/${job.id}/download?format=exe`,
      `/v1/jobs/${job.id}/download?format=csv&format=json`,
      `/v1/jobs/${job.id}/download?ticket=x`,
      `/v1/jobs/${job.id}/artifacts.zip?format=csv`,
      `/v1/jobs/x/../${job.id}/download`,
      `https://evil.example/v1/jobs/${job.id}/download`,
      '/v1/audit',
    ]) {
      const refused = await problemOf(await ticket(path));
      assert.deepEqual([refused.status, refused.code], [400, 'validation_failed'], path);
    }
    assert.match((await problemOf(await ticket(`/v1/jobs/${bJob.id}/download`))).detail, /does not exist or is not readable by you/);
    assert.equal((await problemOf(await ticket(`/v1/jobs/${bJob.id}/download`, keys.admin))).status, 201, 'an admin reads every tenant');
    assert.equal((await fetch(`${server.url}/v1/download-tickets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":"/v1/jobs/x/download"}' })).status, 401);
  });

  test('tickets are in neither the request log nor the audit log', async () => {
    const url = await ticketUrl(`/v1/jobs/${job.id}/documents/${(await ream.jobDocuments(job.id))[0]?.documentId ?? ''}/download?format=ndjson`);
    const value = url.slice(url.indexOf('ticket=') + 'ticket='.length);
    assert.equal((await fetch(`${server.url}${url}`)).status, 200);
    assert.equal((await fetch(`${server.url}${url}`)).status, 401);
    const log = logLines.join('');
    assert.match(log, /ticket=\[redacted\]/, 'the download request was logged');
    assert.ok(!log.includes(value), 'the ticket value is not in the log');
    assert.ok(!log.includes(keys.a), 'nor the key');
    let entries: unknown[] = [];
    for (let i = 0; i < 50 && entries.length === 0; i++) {
      const response = await fetch(`${server.url}/v1/audit?action=results.download&limit=1000`, { headers: { authorization: `Bearer ${keys.admin}` } });
      entries = ((await response.json()) as { items: Array<{ subject: string; tenantId: string }> }).items;
      if (entries.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(entries.length > 0);
    assert.ok(!JSON.stringify(entries).includes(value));
    assert.ok(entries.every((entry) => (entry as { tenantId: string }).tenantId === 'tenant-a'), 'recorded as the ticket\'s principal');
  });

  test('with auth off the console\'s ticket URLs work the same (every request is the local tenant)', async () => {
    const open = await startServer({ ream, host: '127.0.0.1', port: 0 });
    try {
      const local = new ReamClient({ baseUrl: open.url });
      const localJob = await local.submit({ files: [{ name: 'l.pdf', data: await makePdf({ pages: ['local'] }) }] });
      // A browser's POST carries its page's Origin, which the host check allows for the server's own.
      const response = await fetch(`${open.url}/v1/download-tickets`, { method: 'POST', headers: { 'content-type': 'application/json', origin: open.url }, body: JSON.stringify({ path: local.downloadPath(localJob.id, { format: 'csv' }) }) });
      assert.equal(response.status, 201);
      const { url } = (await response.json()) as { url: string };
      assert.equal((await fetch(`${open.url}${url}`)).status, 200);
      // tenant-a's job is not the local tenant's.
      await rejectsWithCode(local.downloadUrl(`/v1/jobs/${job.id}/download`), 'validation_failed', /not readable by you/);
    } finally {
      await open.close();
    }
  });

  test('CSV downloads escape formula-like text cells unless formulas=keep; numbers stay', async () => {
    const escaped: string[][] = parse(Buffer.from(await new Response((await a.download(job.id, { format: 'csv' })).body).arrayBuffer()));
    assert.deepEqual(escaped[0]?.slice(3), ['customer', 'total', 'error_code', 'error_message']);
    assert.equal(escaped[1]?.[3], `'=HYPERLINK("http://evil.example","x")`);
    assert.equal(escaped[2]?.[4], '-3', 'a plain negative number is no formula');
    assert.match(escaped[1]?.[2] ?? '', /^Customer: =HYPERLINK/, 'the page text does not start with one');
    const kept: string[][] = parse(Buffer.from(await new Response((await a.download(job.id, { format: 'csv', formulas: 'keep' })).body).arrayBuffer()));
    assert.equal(kept[1]?.[3], '=HYPERLINK("http://evil.example","x")');
    const bad = await problemOf(await fetch(`${server.url}/v1/jobs/${job.id}/download?format=csv&formulas=run`, { headers: { authorization: `Bearer ${keys.a}` } }));
    assert.deepEqual([bad.status, bad.code], [400, 'validation_failed']);
  });
});
