import type { FastifyInstance } from 'fastify';
import type { JsonObject } from '../../json.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';

interface EstimateBody {
  pipeline?: string;
  options?: JsonObject;
  documents: number;
}

/**
 * `POST /v1/jobs/estimate`: what a job would reserve if submitted now (pages, and credits when
 * the server prices jobs) and the caller's balance, its pipeline and options checked as a submit
 * checks them. Nothing is created or reserved.
 */
export function jobEstimateRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'What a job would reserve (pages, credits) before it is submitted, and the balance it comes out of',
    body: {
      type: 'object',
      required: ['documents'],
      additionalProperties: false,
      properties: {
        pipeline: { type: 'string', minLength: 1 },
        options: { type: 'object', additionalProperties: true },
        documents: { type: 'integer', minimum: 1, maximum: 100_000, description: 'How many documents the job would have' },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['pages', 'credits', 'priced', 'balance'],
        properties: {
          pages: { type: 'integer', description: 'Pages reserved: one per document until they are read' },
          credits: { type: 'integer', description: 'Credits reserved (0 when jobs are not priced); the job is charged what it uses when it ends' },
          priced: { type: 'boolean' },
          balance: { type: 'integer', description: 'The tenant\'s credit balance now' },
        },
      },
      ...problemResponses,
    },
  } as const;
  app.post<{ Body: EstimateBody }>('/v1/jobs/estimate', { ...TENANT, schema }, async (request) => {
    const { pipeline, options, documents } = request.body;
    return ream.estimateJob({ tenantId: principalOf(request).tenantId, documents, ...(pipeline === undefined ? {} : { pipeline }), ...(options === undefined ? {} : { options }) });
  });
}
