import type { DocumentView } from '../../api-types.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { countUploadBytes } from '../metrics.ts';
import type { DocumentRecord } from '../../store/port.ts';
import { canSee, principalOf } from '../auth/principal.ts';
import { TENANT } from '../auth/access.ts';
import { sanitizeFileName } from '../uploads/file-name.ts';
import { multipartFailure, multipartFileNameRefusal } from '../uploads/multipart-errors.ts';
import { idParams, problemResponses, quotaResponses } from '../openapi.ts';
import { multipartFileBytes } from '../uploads/multipart-size.ts';

export type { DocumentView } from '../../api-types.ts';

const documentSchema = {
  type: 'object',
  required: ['id', 'sha256', 'size', 'name', 'mediaType', 'createdAt'],
  properties: {
    id: { type: 'string' },
    sha256: { type: 'string', description: 'sha256 of the content, hex' },
    size: { type: 'integer', description: 'bytes' },
    name: { type: 'string', description: 'the file name it was uploaded under' },
    mediaType: { type: 'string', description: 'the type found from its first bytes' },
    createdAt: { type: 'integer', description: 'Unix time in milliseconds' },
  },
} as const;

const documentIdParams = idParams('Document id');

function view(doc: DocumentRecord): DocumentView {
  return { id: doc.id, sha256: doc.sha256, size: doc.size, name: doc.name, mediaType: doc.mediaType, createdAt: doc.createdAt };
}

/** Stores each `file` part of a multipart request as a document, in order. */
async function storeParts(ream: Ream, request: FastifyRequest, maxFileBytes: number): Promise<DocumentView[]> {
  const items: DocumentView[] = [];
  try {
    await storeEachPart(ream, request, maxFileBytes, items);
  } catch (error) {
    throw withStoredSoFar(multipartFailure(error), items);
  }
  return items;
}

/**
 * A failure after some files of the request were stored says which: they stay stored (and can be
 * named in a job, or deleted), and the client must not think the request stored nothing.
 */
function withStoredSoFar(error: unknown, items: readonly DocumentView[]): unknown {
  if (items.length === 0 || !(error instanceof ReamError)) return error;
  const stored = items.map((item) => ({ id: item.id, name: item.name }));
  return new ReamError(error.code, `${error.message} (the ${items.length} file(s) before it were stored: ${stored.map((s) => `${s.id} ${JSON.stringify(s.name)}`).join(', ')})`, {
    retryable: error.retryable, cause: error, details: { ...error.details, stored },
  });
}

async function storeEachPart(ream: Ream, request: FastifyRequest, maxFileBytes: number, items: DocumentView[]): Promise<void> {
  for await (const part of request.parts()) {
    if (part.type === 'field' || part.fieldname !== 'file') {
      if (part.type === 'file') part.file.resume();
      throw ReamError.nonRetryable('validation_failed', `unexpected part "${part.fieldname}" (files go in "file" parts)`);
    }
    const file = part.file;
    const tooLong = multipartFileNameRefusal(part.filename);
    if (tooLong !== undefined) {
      file.resume();
      throw tooLong;
    }
    const name = sanitizeFileName(part.filename, `file-${items.length + 1}`);
    // A part over the size limit is cut short by the parser: refuse it rather than store half a file.
    file.once('limit', () => file.destroy(ReamError.nonRetryable('file_too_large', `file "${name}" is over the size limit`)));
    // Counted against the storage quota when its bytes have come: requests sent at once each fit alone.
    const doc = await ream.storeDocument(file, name, { tenantId: principalOf(request).tenantId, maxBytes: maxFileBytes, onRefuse: 'drain', storageQuota: true });
    countUploadBytes(ream, 'documents', doc.size);
    items.push(view(doc));
  }
}

/**
 * `POST /v1/documents`: multipart, one or more `file` parts (small files; large ones go through
 * tus at `/v1/uploads`), each checked by its first bytes and streamed into the blob store.
 * `GET /v1/documents/:id`: the record, for the caller's tenant only. `DELETE /v1/documents/:id`:
 * the record and its blob, unless a job uses it (`in_use`).
 */
export function documentRoutes(app: FastifyInstance, ream: Ream, options: { maxFileBytes: number }): void {
  const postSchema = {
    summary: 'Store small files: multipart, one or more "file" parts (large files go through tus at /v1/uploads)',
    consumes: ['multipart/form-data'],
    response: {
      201: { description: 'The stored documents, in the order of the parts', type: 'object', required: ['items'], properties: { items: { type: 'array', items: documentSchema } } },
      429: quotaResponses[429],
      ...problemResponses,
    },
  };
  app.post('/v1/documents', { ...TENANT, schema: postSchema }, async (request, reply) => {
    if (!request.isMultipart()) throw ReamError.nonRetryable('validation_failed', 'POST /v1/documents takes multipart/form-data with "file" parts');
    // The storage quota, early, against what the request's files bring at least (only what could
    // never fit: the files may be ones the tenant holds); each file is counted exactly when its
    // bytes have come (content the tenant holds already: nothing).
    await ream.tenants.checkStorageEarly(principalOf(request).tenantId, multipartFileBytes(request));
    const items = await storeParts(ream, request, options.maxFileBytes);
    if (items.length === 0) throw ReamError.nonRetryable('validation_failed', 'no "file" part');
    return reply.code(201).send({ items });
  });

  const deleteSchema = {
    summary: 'Remove a stored document (of the caller\'s tenant) and, unless another document has the same content, its bytes; 409 in_use while an unfinished job uses it (finished jobs keep their results; retrying one fails the document with document_deleted)',
    params: documentIdParams,
    response: { 204: { type: 'null', description: 'Removed' }, 409: { ...problemResponses['4xx'], description: '`in_use`: unfinished jobs use it (details: unfinishedJobIds)' }, ...problemResponses },
  };
  app.delete<{ Params: { id: string } }>('/v1/documents/:id', { ...TENANT, schema: deleteSchema }, async (request, reply) => {
    const principal = principalOf(request);
    // An admin removes any tenant's document; anyone else only their own (another's is not_found).
    await ream.deleteDocument(request.params.id, principal.role === 'admin' ? undefined : principal.tenantId);
    return reply.code(204).send();
  });

  const getSchema = { summary: 'A stored document (of the caller\'s tenant)', params: documentIdParams, response: { 200: documentSchema, ...problemResponses } };
  app.get<{ Params: { id: string } }>('/v1/documents/:id', { ...TENANT, schema: getSchema }, async (request) => {
    const doc = await ream.getDocument(request.params.id);
    if (!doc || !canSee(principalOf(request), doc.tenantId)) throw ReamError.nonRetryable('not_found', `no document ${request.params.id}`);
    return view(doc);
  });
}
