import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { repoRoot } from '../support/env.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-openapi-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every `$ref` found anywhere in `doc`. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refs(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') found.push(item);
      else refs(item, found);
    }
  }
  return found;
}

/** Follows a local JSON pointer (`#/a/b`), with RFC 6901 escapes; undefined when it leads nowhere. */
function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

test('GET /openapi.json: an OpenAPI 3.1 document of the v1 routes whose every $ref resolves', async () => {
  const response = await fetch(`${server.url}/openapi.json`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const doc = JSON.parse(await response.text()) as {
    openapi: string;
    info: { title: string; version: string };
    paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; responses?: Record<string, unknown> }>>;
    components?: { schemas?: Record<string, unknown> };
  };
  assert.match(doc.openapi, /^3\.1\./);
  const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.deepEqual(doc.info.title, 'ream');
  assert.equal(doc.info.version, pkg.version);

  for (const path of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/jobs/{id}/cancel', '/v1/jobs/{id}/documents/{documentId}/cancel', '/v1/jobs/{id}/documents', '/v1/documents/{id}/inspect', '/v1/jobs/{id}/results', '/healthz']) {
    assert.ok(doc.paths[path], `paths has ${path}`);
  }
  assert.ok(doc.paths['/v1/jobs']?.post && doc.paths['/v1/jobs'].get);
  const getJob = doc.paths['/v1/jobs/{id}']?.get;
  assert.ok(getJob?.parameters?.some((p) => p.name === 'id' && p.in === 'path'));
  assert.ok(getJob?.responses?.['200'], 'GET /v1/jobs/{id} documents 200');
  assert.deepEqual(getJob.responses['4XX'], {
    description: 'A client error',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  assert.ok(doc.paths['/v1/jobs']?.get?.parameters?.some((p) => p.name === 'status' && p.in === 'query'));
  // tus answers by status and headers: its statuses are listed as they are sent.
  assert.ok(doc.paths['/v1/uploads']?.post?.responses?.['201'], 'tus creation documents 201');
  assert.ok(doc.paths['/v1/uploads/{id}']?.patch?.responses?.['204'], 'tus PATCH documents 204');
  assert.ok(doc.paths['/metrics']?.get, 'the Prometheus endpoint is listed');
  assert.ok(doc.paths['/v1/ws']?.get?.responses?.['101'], 'the WebSocket is listed, with its 101');
  const submit = doc.paths['/v1/jobs']?.post as { requestBody?: { content?: Record<string, unknown> } } | undefined;
  assert.deepEqual(Object.keys(submit?.requestBody?.content ?? {}).sort(), ['application/json', 'multipart/form-data'], 'a submit\'s two bodies are described');
  assert.ok(doc.components?.schemas?.Job, 'the job view is a component');
  assert.ok(doc.components.schemas.Problem, 'the problem document is a component');

  const all = refs(doc);
  assert.ok(all.length > 0, 'the document uses $ref');
  for (const ref of all) assert.notEqual(resolvePointer(doc, ref), undefined, `${ref} resolves`);
});

type Operation = { parameters?: Array<{ name: string; in: string; required?: boolean }> };

test('GET /openapi.json validates against the OpenAPI 3.1 schema; every path parameter is declared', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>> };
  const result = await new Validator().validate(doc);
  assert.deepEqual(result.errors, undefined);
  assert.equal(result.valid, true);

  // The schema cannot see that `{id}` in a path needs an `in: path` parameter of that name.
  for (const [path, operations] of Object.entries(doc.paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, operation] of Object.entries(operations)) {
      for (const name of names) {
        const param = operation.parameters?.find((p) => p.in === 'path' && p.name === name);
        assert.ok(param?.required === true, `${method.toUpperCase()} ${path} declares the required path parameter ${name}`);
      }
    }
  }

  // The validator does catch mistakes: a response without its required description is refused.
  const broken = structuredClone(doc) as { paths: Record<string, Record<string, { responses: Record<string, object> }>> };
  const getJob = broken.paths['/v1/jobs/{id}']?.get;
  assert.ok(getJob);
  getJob.responses['200'] = {};
  const refused = await new Validator().validate(broken);
  assert.equal(refused.valid, false);
});
