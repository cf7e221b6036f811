import type { FastifyInstance } from 'fastify';
import { ReamError } from '../errors.ts';
import { sendProblem, toProblem } from './problem.ts';

/**
 * Refuses a request body sent with a Content-Encoding (gzip, br, deflate…) with 415
 * `unsupported_type`, before any of it is read (after authentication: a client without credentials
 * gets 401, not a 415 that tells it the route is there). No route decodes one: its compressed bytes were
 * parsed as JSON or multipart (a 400 about malformed JSON or multipart) or, through tus, stored
 * as the upload's bytes and refused at its end for what they looked like, or kept as they were.
 */
export function registerContentEncodingGuard(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined) return undefined;
    const codings = encoding.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
    if (codings.length === 0 || !hasBody(request.headers)) return undefined;
    return sendProblem(reply, toProblem(ReamError.nonRetryable('unsupported_type', `Content-Encoding ${encoding} is not taken: send the body as it is (identity), uncompressed`)));
  });
}

function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}
