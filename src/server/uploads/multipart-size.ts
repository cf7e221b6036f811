import type { FastifyRequest } from 'fastify';

/**
 * Room left for a multipart body's framing (boundaries, part headers, form fields): the body's
 * length less this is what its files may bring at least.
 */
const FRAMING_ALLOWANCE_BYTES = 4096;

/**
 * What a multipart request's files bring at least, by its Content-Length (0 when it has none),
 * for the storage quota's early check: a body far too large is refused before it is read, while
 * a small file near the limit is not refused for its framing (each file is counted exactly once
 * its bytes have come). `fieldBytes`: the values of the fields read already (a job's options,
 * its template), which are no file's.
 */
export function multipartFileBytes(request: FastifyRequest, fieldBytes = 0): number {
  const length = Number(request.headers['content-length'] ?? 0) || 0;
  return Math.max(0, length - fieldBytes - FRAMING_ALLOWANCE_BYTES);
}
