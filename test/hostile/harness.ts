import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DatabaseSync } from 'node:sqlite';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { AuthOptions } from '../../src/server/auth/plugin.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import { ERROR_CODES } from '../../src/errors.ts';

export const JWT_SECRET = 'hostile-test-secret-that-is-long-enough-for-hs256';
export const TUS = { 'Tus-Resumable': '1.0.0' } as const;

/** A server with auth on over a fresh embedded ream, keys of two tenants and an admin, and its log lines. */
export interface Hostile {
  ream: Ream;
  server: RunningServer;
  url: string;
  keyA: string;
  keyB: string;
  keyAdmin: string;
  /** Every line the server logged (pino JSON), at debug and above. */
  logs: string[];
  /** Rows of `tenantId` in a table of the embedded database (`documents`, `jobs`), read directly: what was stored, whatever the API says. */
  countRows(table: 'documents' | 'jobs', tenantId: string): number;
  close(): Promise<void>;
}

export async function startHostile(options: { auth?: Extract<AuthOptions, { mode: 'on' }>; work?: boolean } = {}): Promise<Hostile> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-hostile-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: options.work ?? false });
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      done();
    },
  });
  const server = await startServer({
    ream,
    host: '127.0.0.1',
    port: 0,
    auth: options.auth ?? { mode: 'on', jwtSecret: JWT_SECRET },
    logger: { level: 'debug', stream },
  });
  const store = ream.engine.ports.store;
  const keyA = (await issueApiKey(store, { tenantId: 'tenant-a', name: 'a', role: 'user' })).token;
  const keyB = (await issueApiKey(store, { tenantId: 'tenant-b', name: 'b', role: 'user' })).token;
  const keyAdmin = (await issueApiKey(store, { tenantId: 'ops', name: 'admin', role: 'admin' })).token;
  return {
    ream,
    server,
    url: server.url,
    keyA,
    keyB,
    keyAdmin,
    logs,
    countRows(table, tenantId) {
      const db = new DatabaseSync(join(ream.dataDir, 'ream.db'), { readOnly: true });
      try {
        const row = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`).get(tenantId) as { n: number };
        return Number(row.n);
      } finally {
        db.close();
      }
    },
    async close() {
      await server.close();
      await ream.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** fetch on the test server, with `token` as the bearer token. */
export function call(h: Hostile, path: string, token?: string, init: RequestInit = {}): Promise<Response> {
  const headers = { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(init.headers as Record<string, string> | undefined) };
  return fetch(`${h.url}${path}`, { ...init, headers, redirect: 'manual' });
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request written as is (path not normalised, as fetch would: `..`, `//`, `%2f` reach the
 * server untouched), with an optional body written in full and then the request ended, even if
 * the body is a cut-short multipart.
 */
export function raw(h: Hostile, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer is an RFC 9457 problem with `code` (one of ream's closed list) and `status`. */
export function assertProblemParts(status: number, contentType: string | null | undefined, body: string, expected: { status: number; code: string }, what = ''): void {
  assert.equal(status, expected.status, `${what}: status (${body.slice(0, 200)})`);
  assert.match(contentType ?? '', /^application\/problem\+json/, `${what}: content-type`);
  const problem = JSON.parse(body) as { code?: unknown; status?: unknown; type?: unknown };
  assert.equal(problem.code, expected.code, `${what}: code`);
  assert.ok(typeof problem.code === 'string' && Object.hasOwn(ERROR_CODES, problem.code), `${what}: a code from the closed list`);
  assert.equal(problem.status, expected.status, `${what}: problem status`);
  assert.equal(problem.type, `urn:ream:problem:${expected.code}`);
}

export async function assertProblem(response: Response, status: number, code: string, what = ''): Promise<void> {
  assertProblemParts(response.status, response.headers.get('content-type'), await response.text(), { status, code }, what);
}

export function assertRawProblem(answer: RawAnswer, status: number, code: string, what = ''): void {
  const type = answer.headers['content-type'];
  assertProblemParts(answer.status, Array.isArray(type) ? type[0] : type, answer.body, { status, code }, what);
}

/** A tus upload created (Upload-Length) for `token`, with `bytes` PATCHed; its id. */
export async function createUpload(h: Hostile, token: string, length: number, bytes?: Uint8Array, metadata = ''): Promise<string> {
  const created = await call(h, '/v1/uploads', token, {
    method: 'POST',
    headers: { ...TUS, 'Upload-Length': String(length), ...(metadata === '' ? {} : { 'Upload-Metadata': metadata }) },
  });
  assert.equal(created.status, 201, await created.text());
  const id = (created.headers.get('location') ?? '').split('/').pop() ?? '';
  if (bytes !== undefined) {
    const patched = await call(h, `/v1/uploads/${id}`, token, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: bytes,
    });
    assert.equal(patched.status, 204, await patched.text());
  }
  return id;
}

/** A document stored with POST /v1/documents for `token`: its id. */
export async function storeDocument(h: Hostile, token: string, content: string | Uint8Array, name = 'a.txt', type = 'text/plain'): Promise<{ id: string; name: string }> {
  const body = new FormData();
  body.append('file', new Blob([content], { type }), name);
  const response = await call(h, '/v1/documents', token, { method: 'POST', body });
  assert.equal(response.status, 201, await response.clone().text());
  const { items } = (await response.json()) as { items: Array<{ id: string; name: string }> };
  const doc = items[0];
  assert.ok(doc);
  return doc;
}

export function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
