import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { JsonObject } from '../../json.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';

interface EstimateBody {
  pipeline?: string;
  options?: JsonObject;
  documents?: number;
  documentIds?: string[];
}

/** Stored documents one estimate may count (each read in the thread pool, within a time budget). */
const MAX_ESTIMATE_DOCUMENTS = 1_000;

/**
 * `POST /v1/jobs/estimate`: what a job would reserve if submitted now (pages, and credits when
 * the server prices jobs) and the caller's balance, its pipeline and options checked as a submit
 * checks them. Nothing is created or reserved. Asked with `documentIds`, the stored documents'
 * pages are counted as the job would count them; a submit of them then reserves those pages.
 */
export function jobEstimateRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'What a job would reserve (pages, credits) before it is submitted, and the balance it comes out of',
    description: 'Asked with `documents` (a count), a page is reserved per document. Asked with `documentIds` (stored documents of the caller\'s '
      + 'tenant), each is inspected as the job would inspect it (PDF pages, image frames, a table\'s data rows for the rows pipeline or its '
      + 'sheets for the others) within a time budget of a few seconds; one not counted in time or unreadable is listed in '
      + '`documentsNotCounted` and reserved as one page. With both, `documents` counts the files not stored yet (still uploading), a page each. Credits price the pages as plain pages: which pages need OCR is known only once '
      + 'they are read, so OCR is charged on top when the job ends. A submit of the same documents reserves the counted pages.',
    body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        pipeline: { type: 'string', minLength: 1 },
        options: { type: 'object', additionalProperties: true },
        documents: { type: 'integer', minimum: 1, maximum: 100_000, description: 'How many documents the job would have; with documentIds, how many more it will have that are not stored yet (a page each)' },
        documentIds: {
          type: 'array', minItems: 1, maxItems: MAX_ESTIMATE_DOCUMENTS, items: { type: 'string', minLength: 1, maxLength: 200 },
          description: 'Stored documents of the caller\'s tenant the job would read: their pages are counted',
        },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['pages', 'credits', 'priced', 'balance'],
        properties: {
          pages: { type: 'integer', description: 'Pages reserved: the counted pages, and one per document not counted' },
          credits: { type: 'integer', description: 'Credits reserved (0 when jobs are not priced), pages priced as plain pages (OCR is not known in advance); the job is charged what it uses when it ends' },
          priced: { type: 'boolean' },
          balance: { type: 'integer', description: 'The tenant\'s credit balance now' },
          pagesCounted: { type: 'integer', description: 'With documentIds: the pages of the documents counted' },
          rows: { type: 'integer', description: 'With documentIds, for rows jobs: the tables\' data rows (of `sheet` when set)' },
          documentsCounted: { type: 'integer', description: 'With documentIds: how many were counted' },
          documentsNotCounted: {
            type: 'array',
            description: 'With documentIds: documents not counted (unreadable, or past the time budget: `timeout`), each reserved as one page',
            items: {
              type: 'object', required: ['documentId', 'code', 'message'],
              properties: { documentId: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
      ...problemResponses,
    },
  } as const;
  app.post<{ Body: EstimateBody }>('/v1/jobs/estimate', { ...TENANT, schema }, async (request, reply) => {
    const { pipeline, options, documents, documentIds } = request.body;
    if (documents === undefined && documentIds === undefined) {
      throw ReamError.nonRetryable('validation_failed', 'give documents (a count), documentIds (stored documents), or both');
    }
    const tenantId = principalOf(request).tenantId;
    const asked = { tenantId, ...(pipeline === undefined ? {} : { pipeline }), ...(options === undefined ? {} : { options }) };
    if (documentIds === undefined) return ream.estimateJob({ ...asked, documents: documents ?? 1 });
    // A caller that goes away stops the counting (its pool threads are stopped).
    const closed = new AbortController();
    reply.raw.once('close', () => closed.abort());
    // A job holds a document once, however often it is named: so does its estimate.
    return ream.estimateStoredJob({ ...asked, documentIds: [...new Set(documentIds)], ...(documents === undefined ? {} : { unstored: documents }), signal: closed.signal });
  });
}
