import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { RowViewQuery } from '../../api-types.ts';
import { ReamError } from '../../errors.ts';
import { fromJson } from '../../json.ts';
import type { DocumentOutput } from '../../pipeline/types.ts';
import type { Ream } from '../../runtime/ream.ts';
import { TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';
import { requireJob } from './jobs.ts';
import { JOB_DOCUMENT_PARAMS } from './job-document-params.ts';
import { MAX_WINDOW_ROWS, rowWindow } from './row-windows.ts';

interface PagesParams {
  id: string;
  documentId: string;
}

const COLUMN = 'row, error, cells.<input column> or fields.<field name>';

const WINDOW_QUERY = {
  type: 'object',
  properties: {
    offset: { type: 'integer', minimum: 0, description: 'Rows of the view to skip. With any of these parameters the answer is one window (200 rows unless `limit`)' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_WINDOW_ROWS, description: 'Rows in the window' },
    sort: { type: 'string', minLength: 1, description: `The column to sort by: ${COLUMN}. Numbers (and numeric text) before text, empty cells last, ties in row order` },
    order: { type: 'string', enum: ['asc', 'desc'], description: 'Default asc' },
    filter: { type: 'string', maxLength: 200, description: 'Keeps the rows whose `filterBy` column (any column when absent) contains this text, ignoring case' },
    filterBy: { type: 'string', minLength: 1, description: `The column \`filter\` looks in: ${COLUMN}` },
  },
} as const;

/**
 * `GET /v1/jobs/:id/documents/:documentId/pages`: one document's pages (a table's rows) as
 * NDJSON, one line per page in order with its text, cells, fields and failure, streamed from
 * the chunk checkpoints one chunk at a time. The way to read a long table whose result omits
 * its rows (`pagesOmitted`); works for any document the job has inspected. With `offset`,
 * `limit`, `sort`, `filter`: one window of the (sorted, filtered) rows, and `X-Total-Count`
 * says how many rows the whole view has (README, "Pages").
 */
export function documentPagesRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'A document\'s pages (a table\'s rows) in order, as NDJSON: text, cells, fields and failure per page',
    description: 'Without a query: every page. With `offset`, `limit`, `sort` or `filter`: one window (200 rows unless `limit`) of the rows, sorted and filtered over every row by the server; the `X-Total-Count` header gives the rows in the whole view.',
    params: JOB_DOCUMENT_PARAMS,
    produces: ['application/x-ndjson'],
    querystring: WINDOW_QUERY,
    response: problemResponses,
  } as const;
  app.get<{ Params: PagesParams; Querystring: RowViewQuery }>('/v1/jobs/:id/documents/:documentId/pages', { ...TENANT, schema }, async (request, reply) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    const { documentId } = request.params;
    const jobDoc = await ream.jobDocument(job.id, documentId);
    if (!jobDoc) throw ReamError.nonRetryable('not_found', `job ${job.id} has no document ${documentId}`);
    const windowed = Object.keys(request.query).length > 0;
    const { total, rows } = windowed ? await rowWindow(ream, jobDoc, request.query) : { total: jobDoc.pagesTotal ?? 0, rows: ream.documentPages(job.id, documentId) };
    async function* lines(): AsyncGenerator<string> {
      for await (const page of rows) yield `${JSON.stringify(page)}\n`;
    }
    return reply.type('application/x-ndjson; charset=utf-8').header('x-total-count', total).send(Readable.from(lines()));
  });

  const resultSchema = {
    summary: 'One ended document\'s result (as one item of GET /v1/jobs/{id}/results), to show it without reading every result of the job',
    params: JOB_DOCUMENT_PARAMS,
    querystring: {
      type: 'object',
      properties: { pages: { type: 'string', enum: ['all', 'none'], description: 'none: the result without its pages (pagesOmitted), e.g. a long table read in windows from /pages' } },
    },
    response: problemResponses,
  } as const;
  app.get<{ Params: PagesParams; Querystring: { pages?: 'all' | 'none' } }>('/v1/jobs/:id/documents/:documentId/result', { ...TENANT, schema: resultSchema }, async (request, reply) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    const { documentId } = request.params;
    if (!(await ream.jobDocument(job.id, documentId))) throw ReamError.nonRetryable('not_found', `job ${job.id} has no document ${documentId}`);
    const result = await ream.documentResult(job.id, documentId);
    if (!result) throw ReamError.nonRetryable('not_found', `document ${documentId} of job ${job.id} has not ended: no result yet`);
    const output = fromJson<DocumentOutput>(result.output);
    return reply.type('application/json; charset=utf-8').send(request.query.pages === 'none' ? { ...output, pages: [], pagesOmitted: true } : output);
  });
}
