import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { PAGE_IMAGE_DPI } from '../../runtime/ream.ts';
import { TENANT } from '../auth/access.ts';
import { canSee, principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';

const params = {
  type: 'object',
  required: ['id', 'page'],
  properties: {
    id: { type: 'string', minLength: 1, description: 'Document id' },
    page: { type: 'integer', minimum: 1, description: '1-based page number' },
  },
} as const;

const querystring = {
  type: 'object',
  properties: {
    dpi: { type: 'integer', minimum: PAGE_IMAGE_DPI.min, maximum: PAGE_IMAGE_DPI.max, default: PAGE_IMAGE_DPI.default, description: 'Resolution (a poster-sized page is drawn smaller)' },
  },
} as const;

/** The same page of the same content at the same resolution is the same picture: cached by the browser. */
const CACHE = 'private, max-age=86400';

/**
 * `GET /v1/documents/:id/pages/:page/image`: a page of a stored PDF drawn as a PNG, for viewing
 * beside its text (the console's document view). Another tenant's document is `not_found`.
 */
export function pageImageRoutes(app: FastifyInstance, ream: Ream): void {
  app.get<{ Params: { id: string; page: number }; Querystring: { dpi?: number } }>(
    '/v1/documents/:id/pages/:page/image',
    {
      ...TENANT,
      schema: {
        summary: 'A page of a stored PDF (of the caller\'s tenant) drawn as a PNG; text and table documents are unsupported_type',
        params,
        querystring,
        produces: ['image/png'],
        response: { 200: { description: 'The page as a PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id, page } = request.params;
      const doc = await ream.getDocument(id);
      if (!doc || !canSee(principalOf(request), doc.tenantId)) throw ReamError.nonRetryable('not_found', `no document ${id}`);
      const closed = new AbortController();
      reply.raw.once('close', () => closed.abort());
      const png = await ream.pageImage(doc.id, page, { dpi: request.query.dpi ?? PAGE_IMAGE_DPI.default, signal: closed.signal });
      return reply.type('image/png').header('cache-control', CACHE).header('x-content-type-options', 'nosniff').send(png);
    },
  );
}
