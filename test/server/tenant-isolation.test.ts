// Nothing a tenant does reads, spends or deletes another tenant's data or credits, in both modes:
// tenant b walks every route that names a resource with tenant a's ids (a document, a finished
// job with results and files, a finished upload, an upload in progress) and gets 404, as for
// ids that do not exist; the admin routes are 403; then tenant a finds everything as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';
import { MODES, modeAvailable, withModeReam } from '../support/modes.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const TUS = { 'tus-resumable': '1.0.0' };

interface Call {
  method?: string;
  json?: unknown;
  headers?: Record<string, string>;
  body?: string | Uint8Array | FormData;
}

function caller(server: RunningServer, key: string): (path: string, init?: Call) => Promise<Response> {
  return (path, init = {}) => fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    ...(init.json === undefined ? (init.body === undefined ? {} : { body: init.body }) : { body: JSON.stringify(init.json) }),
  });
}

async function code(response: Response): Promise<string | undefined> {
  const text = await response.text();
  try {
    return (JSON.parse(text) as { code?: string }).code;
  } catch {
    return undefined; // tus answers HEAD without a body
  }
}

for (const mode of MODES) {
  test(`tenant b can neither read, spend nor delete tenant a's documents, jobs, uploads or credits (${mode})`, async (t) => {
    if (!modeAvailable(t, mode)) return;
    await withModeReam(mode, { credits: { prices: { page: 1 } } }, async ({ ream }) => {
      const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
      try {
        const keys = await issueTenantKeys(ream);
        const [a, b, admin] = [caller(server, keys.a), caller(server, keys.b), caller(server, keys.admin)];
        for (const tenant of ['tenant-a', 'tenant-b']) {
          assert.equal((await admin(`/v1/tenants/${tenant}/credits`, { method: 'POST', json: { amount: 100, reason: 'test' } })).status, 201);
        }

        // Tenant a's things: a stored document, a finished job over it, a finished tus upload and one in progress.
        const pdf = await makePdf({ pages: ['zanzibar secret of tenant a'] });
        const form = new FormData();
        form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'secret.pdf');
        const stored = await a('/v1/documents', { method: 'POST', body: form });
        assert.equal(stored.status, 201);
        const docA = ((await stored.json()) as { items: Array<{ id: string }> }).items[0]?.id ?? '';
        const submitted = await a('/v1/jobs', { method: 'POST', json: { documents: [docA] } });
        assert.equal(submitted.status, 202);
        const jobA = ((await submitted.json()) as { id: string }).id;
        await ream.wait(jobA);
        const finishedUpload = await a('/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': String(pdf.byteLength), 'content-type': 'application/offset+octet-stream' }, body: pdf });
        assert.equal(finishedUpload.status, 201);
        const uploadA = new URL(finishedUpload.headers.get('location') ?? '', server.url).pathname.split('/').pop() ?? '';
        const partial = await a('/v1/uploads', { method: 'POST', headers: { ...TUS, 'upload-length': '1000' } });
        assert.equal(partial.status, 201);
        const partialA = new URL(partial.headers.get('location') ?? '', server.url).pathname.split('/').pop() ?? '';
        const balanceA = ((await (await a('/v1/credits')).json()) as { balance: number }).balance;

        const notFound: Array<[string, Call?]> = [
          [`/v1/documents/${docA}`],
          [`/v1/documents/${docA}/pages/1/image`],
          [`/v1/documents/${docA}/inspect`, { method: 'POST' }],
          [`/v1/documents/${docA}`, { method: 'DELETE' }],
          [`/v1/jobs/${jobA}`],
          [`/v1/jobs/${jobA}/events`],
          [`/v1/jobs/${jobA}/results`],
          [`/v1/jobs/${jobA}/artifacts`],
          [`/v1/jobs/${jobA}/artifacts.zip`],
          [`/v1/jobs/${jobA}/artifacts/report.pdf`],
          [`/v1/jobs/${jobA}/documents/${docA}/pages`],
          [`/v1/jobs/${jobA}/documents`],
          [`/v1/jobs/${jobA}/cancel`, { method: 'POST' }],
          [`/v1/jobs/${jobA}/documents/${docA}/cancel`, { method: 'POST' }],
          [`/v1/jobs/${jobA}/retry`, { method: 'POST' }],
          [`/v1/jobs/${jobA}`, { method: 'DELETE' }],
          [`/v1/uploads/${uploadA}`],
          [`/v1/uploads/${uploadA}`, { method: 'DELETE', headers: TUS }],
          [`/v1/uploads/${partialA}`],
          [`/v1/uploads/${partialA}`, { method: 'HEAD', headers: TUS }],
          [`/v1/uploads/${partialA}`, { method: 'PATCH', headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: 'x'.repeat(10) }],
          [`/v1/uploads/${partialA}`, { method: 'DELETE', headers: TUS }],
          // Spending b's credits on a's document or upload: refused before anything runs.
          ['/v1/jobs', { method: 'POST', json: { documents: [docA] } }],
          ['/v1/jobs', { method: 'POST', json: { uploads: [uploadA] } }],
        ];
        for (const [path, init] of notFound) {
          const response = await b(path, init);
          assert.equal(response.status, 404, `${init?.method ?? 'GET'} ${path}: ${response.status}`);
          if (init?.method !== 'HEAD') assert.equal(await code(response), 'not_found', `${init?.method ?? 'GET'} ${path}`);
        }

        const forbidden: Array<[string, Call?]> = [
          ['/v1/usage?tenant=tenant-a'],
          ['/v1/tenants'],
          ['/v1/tenants/tenant-a'],
          ['/v1/tenants/tenant-a/ledger'],
          ['/v1/tenants/tenant-a/credits', { method: 'POST', json: { amount: -100, reason: 'theft' } }],
          ['/v1/tenants/tenant-a/quotas', { method: 'PUT', json: { pagesPerDay: 0 } }],
          ['/v1/audit'],
          ['/v1/workers'],
          ['/v1/queues'],
        ];
        for (const [path, init] of forbidden) {
          const response = await b(path, init);
          assert.equal(response.status, 403, `${init?.method ?? 'GET'} ${path}: ${response.status}`);
        }
        const own = (await (await b('/v1/credits')).json()) as { tenantId: string; balance: number };
        assert.equal(own.tenantId, 'tenant-b', 'b reads its own balance only');
        assert.equal(own.balance, 100, 'and spent nothing');
        const hits = (await (await b('/v1/search?q=zanzibar')).json()) as { items?: unknown[] } | unknown[];
        assert.deepEqual(Array.isArray(hits) ? hits : hits.items ?? [], [], 'b finds nothing of a\'s in search');
        const listed = (await (await b('/v1/jobs')).json()) as { items: Array<{ id: string }> };
        assert.ok(listed.items.every((job) => job.id !== jobA));

        // Everything of a's is as it was.
        assert.equal((await a(`/v1/documents/${docA}`)).status, 200);
        assert.equal(((await (await a(`/v1/jobs/${jobA}`)).json()) as { status: string }).status, 'succeeded');
        assert.equal((await a(`/v1/jobs/${jobA}/results`)).status, 200);
        assert.equal(((await (await a(`/v1/uploads/${uploadA}`)).json()) as { status: string }).status, 'stored');
        assert.equal(((await (await a(`/v1/uploads/${partialA}`)).json()) as { offset: number }).offset, 0, 'b wrote nothing into a\'s upload');
        assert.equal(((await (await a('/v1/credits')).json()) as { balance: number }).balance, balanceA, 'a\'s credits are untouched');
      } finally {
        await server.close();
      }
    });
  });
}
