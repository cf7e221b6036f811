import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/ream.ts';
import { TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';
import { requireJob } from './jobs.ts';
import { JOB_DOCUMENT_PARAMS } from './job-document-params.ts';

interface PagesParams {
  id: string;
  documentId: string;
}

/**
 * `GET /v1/jobs/:id/documents/:documentId/pages`: one document's pages (a table's rows) as
 * NDJSON, one line per page in order with its text, cells, fields and failure, streamed from
 * the chunk checkpoints one chunk at a time. The way to read a long table whose result omits
 * its rows (`pagesOmitted`); works for any document the job has inspected.
 */
export function documentPagesRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'A document\'s pages (a table\'s rows) in order, as NDJSON: text, cells, fields and failure per page',
    params: JOB_DOCUMENT_PARAMS,
    produces: ['application/x-ndjson'],
    response: problemResponses,
  } as const;
  app.get<{ Params: PagesParams }>('/v1/jobs/:id/documents/:documentId/pages', { ...TENANT, schema }, async (request, reply) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    const { documentId } = request.params;
    const jobDoc = await ream.jobDocument(job.id, documentId);
    if (!jobDoc) throw ReamError.nonRetryable('not_found', `job ${job.id} has no document ${documentId}`);
    async function* lines(): AsyncGenerator<string> {
      for await (const page of ream.documentPages(job.id, documentId)) yield `${JSON.stringify(page)}\n`;
    }
    return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines()));
  });
}
