import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';
import { TENANT } from '../auth/access.ts';
import { SEARCH_TYPE_FAMILIES } from '../../api-types.ts';
import { hasFilters, parseSearchFilters } from '../../search/filters.ts';
import { queryTerms } from '../../search/fts-query.ts';
import { ALL_TENANTS } from './jobs.ts';
import { MAX_SEARCH_OFFSET } from '../../search/port.ts';

const MAX_QUERY_LENGTH = 500;

const querySchema = {
  type: 'object',
  properties: {
    q: {
      type: 'string',
      description: 'Words to find (plain text): every word must occur on the page, words joined by punctuation (INV-2024-17) in a row. '
        + 'May be empty or left out when a filter is given: then each matching document\'s first page is a hit, newest first',
    },
    limit: { type: 'string', description: 'Hits to return, 1–100 (default 20)' },
    cursor: { type: 'string', description: `nextCursor of the previous page: the hits after it, in the same order (paging ends after ${MAX_SEARCH_OFFSET} hits)` },
    tenant: { type: 'string', description: 'Admins only: search this tenant instead of their own' },
    job: { type: 'string', description: 'Only documents this job indexed' },
    type: { type: 'string', description: `An exact media type (application/pdf) or a family: ${SEARCH_TYPE_FAMILIES.join(', ')}` },
    from: { type: 'string', description: 'Indexed at or after: an ISO date (2026-12-01, from 00:00 UTC), an ISO date-time with a zone, or epoch milliseconds' },
    to: { type: 'string', description: 'Indexed at or before: an ISO date (2026-12-01, through 23:59:59.999 UTC), an ISO date-time with a zone, or epoch milliseconds' },
    field: {
      type: 'array',
      items: { type: 'string' },
      description: 'name:value, repeatable: the document\'s extracted field `name` has the value `value` (both case-insensitive, whole value, any page). '
        + 'Filters combine: one job\'s result for the document must satisfy them all',
    },
  },
} as const;

const hitSchema = {
  type: 'object',
  required: ['documentId', 'name', 'jobId', 'page', 'snippet', 'matches', 'score'],
  properties: {
    documentId: { type: 'string' },
    jobId: { type: ['string', 'null'], description: 'The job named by `job`, else the newest job of the tenant holding the document: its page\'s results are at /v1/jobs/{jobId}/documents/{documentId}' },
    name: { type: 'string', description: 'the document\'s file name (the first one its content was stored under)' },
    page: { type: 'integer', description: '1-based page number' },
    snippet: { type: 'string', description: 'An excerpt around the match, as the page has it (no marks added)' },
    matches: {
      type: 'array',
      description: 'Where the matched words are in the snippet: snippet.slice(start, end), UTF-16 offsets (as JavaScript counts), in order',
      items: { type: 'object', required: ['start', 'end'], properties: { start: { type: 'integer', minimum: 0 }, end: { type: 'integer', minimum: 0 } } },
    },
    score: { type: 'number', description: 'Higher is better; comparable only within one answer' },
  },
} as const;

interface SearchQuerystring {
  q?: string;
  limit?: string;
  cursor?: string;
  tenant?: string;
  job?: string;
  type?: string;
  from?: string;
  to?: string;
  field?: string[];
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return 20;
  // Digits only: Number() would also take 0x10, 1e1 and spaces.
  const n = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw ReamError.nonRetryable('validation_failed', 'limit must be an integer from 1 to 100');
  return n;
}

/** A cursor names the offset of the page it opens (opaque to clients: its form may change). */
function cursorOf(offset: number): string {
  return Buffer.from(`o${offset}`).toString('base64url');
}

function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const offset = /^o(\d{1,6})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'))?.[1];
  if (offset === undefined) throw ReamError.nonRetryable('validation_failed', 'cursor is not one a search answered (pass nextCursor as it came)');
  if (Number(offset) >= MAX_SEARCH_OFFSET) throw ReamError.nonRetryable('validation_failed', `search pages end after ${MAX_SEARCH_OFFSET} hits: narrow the search (a filter, more words)`);
  return Number(offset);
}

/**
 * `GET /v1/search?q=`: page-level full-text search over the documents indexed by jobs (the
 * `index` stage), always within one tenant — the caller's, or for an admin the one it names —
 * optionally filtered by job, media type, indexing time and field values (docs/search.md).
 */
export function searchRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'Full-text search over indexed pages of the caller\'s tenant, best hits first; filters by job, type, indexed time and field values',
    querystring: querySchema,
    response: {
      200: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: hitSchema },
          nextCursor: { type: ['string', 'null'], description: 'Pass as cursor for the next hits; null when there are none (a full page may be followed by an empty one)' },
        },
      },
      ...problemResponses,
    },
  };
  app.get<{ Querystring: SearchQuerystring }>('/v1/search', { ...TENANT, schema }, async (request) => {
    const { q = '', tenant } = request.query;
    const filters = parseSearchFilters(request.query);
    const filtered = hasFilters(filters);
    if (queryTerms(q).length === 0 && !filtered) throw ReamError.nonRetryable('validation_failed', 'q must name at least one word (letters or digits), unless a filter (job, type, from, to, field) is given');
    if (q.length > MAX_QUERY_LENGTH) throw ReamError.nonRetryable('validation_failed', `q is longer than ${MAX_QUERY_LENGTH} characters`);
    const principal = principalOf(request);
    if (tenant === ALL_TENANTS) throw ReamError.nonRetryable('validation_failed', 'a search covers one tenant: name it (tenant=* is for listing jobs and errors)');
    if (tenant !== undefined && tenant !== principal.tenantId && principal.role !== 'admin') {
      throw ReamError.nonRetryable('forbidden', 'only an admin may search another tenant');
    }
    const offset = offsetOf(request.query.cursor);
    // The last page stops where paging ends.
    const limit = Math.min(parseLimit(request.query.limit), MAX_SEARCH_OFFSET - offset);
    const items = await ream.search(q, { tenantId: tenant ?? principal.tenantId, limit, offset, ...(filtered ? { filters } : {}) });
    // A full page may have more after it, up to where paging ends.
    const next = offset + limit;
    return { items, nextCursor: items.length === limit && next < MAX_SEARCH_OFFSET ? cursorOf(next) : null };
  });
}
