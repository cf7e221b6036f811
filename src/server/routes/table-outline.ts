import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { TENANT } from '../auth/access.ts';
import { canSee, principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';

const TABLE_OUTLINE = {
  type: 'object',
  description: 'The table\'s sheets in workbook order (a CSV: one, named null), each with its header\'s columns (none for a sheet without a header row)',
  required: ['sheets'],
  properties: {
    sheets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'columns'],
        properties: {
          name: { type: ['string', 'null'] },
          columns: { type: 'array', items: { type: 'string' } },
          error: {
            type: 'object',
            description: 'Why this sheet cannot be read (its part missing or broken); the other sheets are listed as ever',
            required: ['code', 'message'],
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

/**
 * `POST /v1/documents/:id/inspect`: a stored table's sheets and header columns (reading a sheet
 * is work in the thread pool, not a cacheable GET), to pick the rows pipeline's sheet and columns.
 */
export function tableOutlineRoutes(app: FastifyInstance, ream: Ream): void {
  app.post<{ Params: { id: string } }>(
    '/v1/documents/:id/inspect',
    {
      ...TENANT,
      schema: {
        summary: 'A stored table\'s (CSV, XLSX) sheets and header columns, to pick the rows pipeline\'s sheet and columns; other documents are unsupported_type',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        response: { 200: TABLE_OUTLINE, ...problemResponses },
      },
    },
    async (request, reply) => {
      const doc = await ream.getDocument(request.params.id);
      if (!doc || !canSee(principalOf(request), doc.tenantId)) throw ReamError.nonRetryable('not_found', `no document ${request.params.id}`);
      const closed = new AbortController();
      reply.raw.once('close', () => closed.abort());
      return ream.tableOutline(doc.id, closed.signal);
    },
  );
}
