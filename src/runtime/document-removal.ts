import { ReamError } from '../errors.ts';
import type { BlobStore } from '../blobs/port.ts';
import type { SearchIndex } from '../search/port.ts';
import type { DocumentRecord, Store } from '../store/port.ts';

export interface RemovedDocument {
  document: DocumentRecord;
  /** Whether its bytes went too: not when another document (of any tenant) has the same content. */
  blobDeleted: boolean;
}

export interface DocumentRemovalParts {
  store: Pick<Store, 'getDocument' | 'deleteDocument'>;
  blobs: Pick<BlobStore, 'delete'>;
  search: Pick<SearchIndex, 'removeDocument'>;
}

/**
 * Removes a stored document: its record, its search entries, and its blob when no other
 * document shares the content (blobs are addressed by content, across tenants). A document of
 * another tenant is `not_found` (never confirmed to exist); one a job uses is `in_use`, naming
 * the jobs (delete them first, or let retention remove them).
 */
export async function removeDocument(parts: DocumentRemovalParts, documentId: string, tenantId?: string): Promise<RemovedDocument> {
  const found = await parts.store.getDocument(documentId);
  if (!found || (tenantId !== undefined && found.tenantId !== tenantId)) throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
  const deletion = await parts.store.deleteDocument(documentId);
  if (deletion.status === 'not_found') throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
  if (deletion.status === 'in_use') {
    const running = deletion.unfinishedJobIds.length;
    throw ReamError.nonRetryable('in_use', `document ${documentId} is used by ${deletion.jobIds.length} job(s)${running > 0 ? `, ${running} of them unfinished` : ''}: delete them first`, {
      details: { jobIds: deletion.jobIds.slice(0, 100), unfinishedJobIds: deletion.unfinishedJobIds.slice(0, 100) },
    });
  }
  await parts.search.removeDocument(found.tenantId, documentId);
  const blobDeleted = deletion.blobUnused ? await parts.blobs.delete(found.sha256) : false;
  return { document: deletion.document, blobDeleted };
}
