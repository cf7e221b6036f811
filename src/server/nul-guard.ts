import type { FastifyInstance } from 'fastify';
import { ReamError } from '../errors.ts';
import { containsNul } from '../json.ts';
import { sendProblem, toProblem } from './problem.ts';

/**
 * Refuses a NUL character (U+0000) in a request's URL or JSON body with 400 `validation_failed`.
 * No id, name, query or option of ream holds one, and PostgreSQL cannot store one in text or
 * jsonb: it reached the database as a 500 `internal` (`invalid byte sequence … 0x00`).
 */
export function registerNulGuard(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!/%00|\0/i.test(request.url)) return undefined;
    return sendProblem(reply, toProblem(ReamError.nonRetryable('validation_failed', 'the URL holds a NUL character (%00): no id, name or query value of ream holds one')));
  });
  app.addHook('preValidation', async (request, reply) => {
    if (request.body === undefined || request.body === null || typeof request.body !== 'object' || !containsNul(request.body)) return undefined;
    return sendProblem(reply, toProblem(ReamError.nonRetryable('validation_failed', 'the body holds a NUL character (\\u0000) in a string: no value of ream holds one')));
  });
}
