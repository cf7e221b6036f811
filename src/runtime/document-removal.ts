import { ReamError } from '../errors.ts';
import type { AnalysisStore } from '../analyzers/store/port.ts';
import type { BlobStore } from '../blobs/port.ts';
import type { SearchIndex } from '../search/port.ts';
import type { DocumentRecord, Store } from '../store/port.ts';

export interface RemovedDocument {
  document: DocumentRecord;
  /** Whether its bytes went too: not when another document (of any tenant) has the same content. */
  blobDeleted: boolean;
}

export interface DocumentRemovalParts {
  store: Pick<Store, 'getDocument' | 'deleteDocument' | 'withContentLock'>;
  blobs: Pick<BlobStore, 'delete'>;
  search: Pick<SearchIndex, 'removeDocument'>;
  /** Model answers about the document (they quote it) go with it. */
  analysis?: Pick<AnalysisStore, 'forgetDocument'> | undefined;
}

/**
 * Removes a stored document: its record, its search entries, and its blob when no other live
 * document shares the content (blobs are addressed by content, across tenants). A document of
 * another tenant is `not_found` (never confirmed to exist); one an unfinished job uses is
 * `in_use`, naming the jobs (cancel them, or wait for them to end). Finished jobs keep their
 * results; a retry of one fails the document with `document_deleted`.
 *
 * The deletion and the blob's removal hold the content's lock, as storing a document does: a
 * document of the same content stored meanwhile either came first (the blob stays) or comes
 * after (and puts the blob back), never pointing at a removed blob. With `storedAt` (when the
 * caller stored it), a document stored again since is kept: it is another request's too.
 */
export async function removeDocument(parts: DocumentRemovalParts, documentId: string, tenantId?: string, storedAt?: number): Promise<RemovedDocument> {
  const found = await parts.store.getDocument(documentId);
  if (!found || (tenantId !== undefined && found.tenantId !== tenantId)) throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
  const { deletion, blobDeleted } = await parts.store.withContentLock(found.sha256, async () => {
    const deletion = await parts.store.deleteDocument(documentId, Date.now(), storedAt);
    return { deletion, blobDeleted: deletion.status === 'deleted' && deletion.blobUnused ? await parts.blobs.delete(found.sha256) : false };
  });
  if (deletion.status === 'not_found') throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
  if (deletion.status === 'in_use') {
    const jobs = deletion.unfinishedJobIds;
    throw ReamError.nonRetryable('in_use', `document ${documentId} is used by ${jobs.length} unfinished job(s): cancel them or wait for them to end`, {
      details: { unfinishedJobIds: jobs.slice(0, 100) },
    });
  }
  await parts.search.removeDocument(found.tenantId, documentId);
  await parts.analysis?.forgetDocument(found.tenantId, found.sha256);
  return { document: deletion.document, blobDeleted };
}
