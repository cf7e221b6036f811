import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../errors.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { JOB_STATUSES } from '../store/port.ts';
import { PUBLIC } from './auth/access.ts';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

const nullable = (type: string): { type: string[] } => ({ type: [type, 'null'] });

/** Shared JSON schemas, referenced from routes as `{ $ref: 'Name#' }`; OpenAPI shows them under components.schemas. */
export const SHARED_SCHEMAS = [
  {
    $id: 'Problem',
    type: 'object',
    description: 'An RFC 9457 problem (application/problem+json) with ream\'s stable `code`.',
    required: ['type', 'title', 'status', 'code', 'detail'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      code: { type: 'string', enum: Object.keys(ERROR_CODES) },
      detail: { type: 'string' },
      details: { type: 'object', additionalProperties: true },
    },
  },
  {
    $id: 'Usage',
    type: 'object',
    description: 'Model tokens spent, per model, with the sums and a cost when every model has a price.',
    required: ['promptTokens', 'completionTokens', 'totalTokens', 'calls', 'cachedCalls', 'byModel'],
    properties: {
      promptTokens: { type: 'integer' },
      completionTokens: { type: 'integer' },
      totalTokens: { type: 'integer' },
      calls: { type: 'integer', description: 'Calls the provider answered.' },
      cachedCalls: { type: 'integer', description: 'Calls answered from the response cache (no tokens).' },
      costUsd: { type: 'number', description: 'When the process has a price for every model used.' },
      byModel: {
        type: 'array',
        items: {
          type: 'object',
          required: ['model', 'promptTokens', 'completionTokens', 'calls', 'cachedCalls'],
          properties: {
            model: { type: 'string' },
            promptTokens: { type: 'integer' },
            completionTokens: { type: 'integer' },
            calls: { type: 'integer' },
            cachedCalls: { type: 'integer' },
          },
        },
      },
    },
  },
  {
    $id: 'Progress',
    type: 'object',
    required: ['documentsDone', 'documentsTotal', 'pagesDone', 'pagesTotal', 'percent', 'etaSeconds'],
    properties: {
      documentsDone: { type: 'integer' },
      documentsTotal: { type: 'integer' },
      pagesDone: { type: 'integer' },
      pagesTotal: { type: 'integer' },
      percent: { type: 'number' },
      etaSeconds: nullable('number'),
      documentsUncounted: { type: 'integer', description: 'Documents whose pages are not counted yet: pagesTotal will still grow (absent when 0)' },
      rows: {
        type: 'object',
        description: 'Jobs of the rows pipeline: data rows done and in all',
        required: ['done', 'total'],
        properties: { done: { type: 'integer' }, total: { type: 'integer' } },
      },
    },
  },
  {
    $id: 'ErrorInfo',
    type: 'object',
    required: ['code', 'message'],
    additionalProperties: true,
    properties: { code: { type: 'string' }, message: { type: 'string' } },
  },
  {
    $id: 'Job',
    type: 'object',
    description: 'What GET /v1/jobs/:id answers. Times are ISO 8601 strings or null.',
    required: ['id', 'tenantId', 'status', 'pipeline', 'options', 'priority', 'createdAt', 'startedAt', 'finishedAt', 'error', 'progress', 'counts'],
    properties: {
      id: { type: 'string' },
      tenantId: { type: 'string', description: 'The tenant the job belongs to' },
      status: { type: 'string', enum: [...JOB_STATUSES] },
      pipeline: { type: 'string' },
      options: { type: 'object', additionalProperties: true },
      priority: { anyOf: [{ type: 'string', enum: ['low', 'normal', 'high', 'critical'] }, { type: 'number' }] },
      createdAt: { type: 'string', format: 'date-time' },
      startedAt: { ...nullable('string'), format: 'date-time' },
      finishedAt: { ...nullable('string'), format: 'date-time' },
      error: { anyOf: [{ $ref: 'ErrorInfo#' }, { type: 'null' }] },
      progress: { $ref: 'Progress#' },
      counts: {
        type: 'object',
        required: ['documents', 'chunks'],
        properties: {
          documents: {
            type: 'object',
            required: ['total', 'succeeded', 'partiallySucceeded', 'failed', 'cancelled'],
            properties: {
              total: { type: 'integer' },
              succeeded: { type: 'integer' },
              partiallySucceeded: { type: 'integer' },
              failed: { type: 'integer' },
              cancelled: { type: 'integer' },
            },
          },
          chunks: {
            type: 'object',
            required: ['total', 'succeeded', 'failed'],
            properties: { total: { type: 'integer' }, succeeded: { type: 'integer' }, failed: { type: 'integer' } },
          },
        },
      },
      usage: { $ref: 'Usage#' },
    },
  },
] as const;

/** Route schema pieces, for `schema:` in route definitions. */
/** The `:id` path parameter of a route, described for the OpenAPI document. */
export function idParams<D extends string>(description: D) {
  return { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, description } } } as const;
}

export const jobIdParams = idParams('Job id');

export const problem = { content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } } as const;
/** Errors are problem+json (the error handler sets that type, so Fastify serializes with this schema). */
export const problemResponses = {
  '4xx': { description: 'A client error', ...problem },
  '5xx': { description: 'A server error', ...problem },
} as const;

/** The refusals of work that costs credits or counts against a quota (a submit, an upload). */
export const quotaResponses = {
  402: { description: '`insufficient_credits`: the balance does not cover the estimate (details: balance, needed)', ...problem },
  429: { description: '`quota_exceeded` (details: quota, limit, used, needed), or `rate_limited`', ...problem },
} as const;

export const jobResponse = { description: 'The job', $ref: 'Job#' } as const;

/** A list answered a page at a time: `items`, and `nextCursor` to pass back as `cursor` (null on the last page). */
export function pageOf<S extends object>(items: S) {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items }, nextCursor: { type: ['string', 'null'], description: 'null on the last page' } },
  } as const;
}

/**
 * Registers the shared schemas and @fastify/swagger (OpenAPI 3.1) on the root instance — before
 * any route, so every route is seen — and serves the document at `GET /openapi.json`.
 */
export function openapi(app: FastifyInstance): void {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ream',
        version: packageVersion(),
        description: 'Process piles of documents asynchronously, concurrently and reliably (DESIGN.md §8).',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (ream_<id>_<secret>) or a JWT; needed only when the server runs with auth' } },
      },
      security: [{ bearer: [] }],
    },
    // Each operation says who may call it (`x-ream-access`: public, tenant or admin, the route's
    // declared access); public ones need no credentials. A route whose body its handler reads
    // and checks itself (multipart streamed, or JSON with its own messages) describes it under
    // `x-body`: in the document as its request body, never compiled into a validator.
    transform: ({ schema, url, route }) => {
      const access = route.config?.access ?? 'tenant';
      const { 'x-body': body, ...rest } = schema as typeof schema & { 'x-body'?: unknown };
      return { schema: { ...rest, ...(body === undefined ? {} : { body }), 'x-ream-access': access, ...(access === 'public' ? { security: [] } : {}) }, url };
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  });
  void app.register((scope, _opts, done) => {
    scope.get('/openapi.json', { ...PUBLIC, schema: { hide: true } }, () => scope.swagger());
    done();
  });
}
