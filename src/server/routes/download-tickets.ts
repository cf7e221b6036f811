import type { FastifyInstance } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { TENANT } from '../auth/access.ts';
import { DOWNLOAD_TICKET_TTL_MS, issueDownloadTicket, MAX_PATH_CHARS, parseDownloadPath } from '../auth/download-tickets.ts';
import { principalOf } from '../auth/principal.ts';
import type { Coordination } from '../coordination.ts';
import { problemResponses } from '../openapi.ts';
import { requireJob } from './jobs.ts';

export interface DownloadTicketOptions {
  /** Shared by the instances of a deployment: a ticket issued by one is redeemed on another. */
  coordination: Coordination;
  /** How long a ticket is good for, in ms. Default {@link DOWNLOAD_TICKET_TTL_MS}. */
  ttlMs?: number;
}

/**
 * `POST /v1/download-tickets { path }`: a URL that opens one download or artifact route once,
 * as the caller, with no `Authorization` (see auth/download-tickets.ts). The path is parsed, not
 * trusted: it must be such a route of a job the caller may read.
 */
export function downloadTicketRoutes(app: FastifyInstance, ream: Ream, options: DownloadTicketOptions): void {
  const ttlMs = options.ttlMs ?? DOWNLOAD_TICKET_TTL_MS;
  app.post<{ Body: { path: string } }>('/v1/download-tickets', {
    ...TENANT,
    schema: {
      summary: 'A single-use URL for a browser download (no Authorization on a navigation): the path plus ticket=…',
      body: {
        type: 'object',
        required: ['path'],
        additionalProperties: false,
        properties: {
          path: {
            type: 'string',
            minLength: 1,
            maxLength: MAX_PATH_CHARS,
            description: 'A download or artifact route of a job the caller may read, with its query: /v1/jobs/<id>/download?format=csv, /v1/jobs/<id>/documents/<documentId>/download, /v1/jobs/<id>/artifacts/<name>, /v1/jobs/<id>/artifacts.zip',
          },
        },
      },
      response: {
        201: {
          type: 'object',
          required: ['url', 'expiresAt'],
          properties: {
            url: { type: 'string', description: `The path with ticket=…: one GET within ${ttlMs / 1000} s, as the caller, of exactly that path and query` },
            expiresAt: { type: 'integer', description: 'Epoch ms' },
          },
        },
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const { jobId } = parseDownloadPath(request.body.path);
    try {
      await requireJob(ream, jobId, principal);
    } catch (error) {
      // One answer for a job that does not exist and another tenant's: nothing is learnt by asking.
      if (error instanceof ReamError && error.code === 'not_found') throw ReamError.nonRetryable('validation_failed', `path names job ${jobId}, which does not exist or is not readable by you`);
      throw error;
    }
    return reply.code(201).send(await issueDownloadTicket(options.coordination, principal, request.body.path, ttlMs));
  });
}
