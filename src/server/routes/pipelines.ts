import type { FastifyInstance } from 'fastify';
import type { Ream } from '../../runtime/create-ream.ts';
import { TENANT } from '../auth/access.ts';
import { problemResponses } from '../openapi.ts';

/**
 * `GET /v1/pipelines`: every pipeline a job may name (built-in and registered), each with the
 * JSON Schema of its options: the very object `POST /v1/jobs` checks the options against.
 */
export function pipelineRoutes(app: FastifyInstance, ream: Ream): void {
  const schema = {
    summary: 'The pipelines a job may name, each with the JSON Schema its options are validated with',
    response: {
      200: {
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'optionsSchema'],
              properties: { name: { type: 'string' }, optionsSchema: { type: 'object', additionalProperties: true, description: 'A JSON Schema (draft-07)' } },
            },
          },
        },
      },
      ...problemResponses,
    },
  } as const;
  app.get('/v1/pipelines', { ...TENANT, schema }, () => ({ items: ream.pipelines() }));
}
