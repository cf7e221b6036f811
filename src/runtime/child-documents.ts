// A document's inner files (an e-mail's attachments) as documents of the same job, run by the
// same pipeline, each with `parentId` = the document it came out of. Called by the parent's
// inspection before the parent is marked inspected: a repeat after a crash unpacks again, and
// finds the same children (same bytes → same document id; a document already in the job is
// never attached twice), so children are never made twice. An attachment whose content is in
// the job already (the same file attached twice, or given by the user too) stays one document.
import { openFileStream } from './open-file.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DocumentFormat, DocumentMetadata, InnerFileRefusal, PageWarning } from '../formats/types.ts';
import { DEFAULT_ATTACHMENT_LIMITS, type Pipeline } from '../pipeline/types.ts';
import type { JobDocumentRecord, JobRecord, Store } from '../store/port.ts';
import type { DocumentToAdd, Engine } from './engine.ts';
import { storeDocument } from './store-document.ts';

export interface ChildScope {
  job: JobRecord;
  jobDoc: JobDocumentRecord;
  pipeline: Pipeline;
  /** The parent's local file. */
  path: string;
  metadata: DocumentMetadata;
}

/** How many parents the document has in its job (0: a file the user gave). */
async function depthOf(store: Store, jobDoc: JobDocumentRecord, limit: number): Promise<number> {
  let depth = 0;
  for (let parentId = jobDoc.parentId; parentId !== undefined && depth <= limit; depth++) {
    parentId = (await store.getJobDocument(jobDoc.jobId, parentId))?.parentId;
  }
  return depth;
}

/** `mail.eml#2/report.pdf`: the child's name in results, from its parent's and its own place in it. */
export function childSource(parentSource: string, index: number, name: string): string {
  return `${parentSource}#${index}/${name}`;
}

/**
 * Stores the document's inner files and attaches them to the job (which schedules them). Answers
 * the warnings for the inner files refused (by the limits: `resource_limit`; undecodable:
 * `invalid_email`; on page 1), for the
 * parent's result. A format without inner files answers none at once.
 */
export async function addChildDocuments(engine: Engine, format: DocumentFormat, scope: ChildScope, signal: AbortSignal): Promise<PageWarning[]> {
  if (!format.unpack) return [];
  const limits = scope.pipeline.attachments ?? DEFAULT_ATTACHMENT_LIMITS;
  const depth = await depthOf(engine.ports.store, scope.jobDoc, limits.maxDepth);
  if (depth >= limits.maxDepth) {
    const names = scope.metadata.attachments ?? [];
    return names.length === 0 ? [] : [{
      page: 1, code: 'resource_limit',
      message: `${names.length} attachment(s) not read (${names.join(', ')}): the message is nested ${depth} deep, and maxAttachmentDepth is ${limits.maxDepth}`,
    }];
  }
  const dir = await mkdtemp(join(tmpdir(), 'ream-unpack-'));
  try {
    const { files, refused } = await format.unpack(scope.path, dir, limits, signal);
    const children: DocumentToAdd[] = [];
    for (const file of files) {
      signal.throwIfAborted();
      // `keep`: content no reader takes is stored all the same, and its own inspection fails it
      // with its code (`unsupported_type`), never the parent.
      const doc = await storeDocument(engine, await openFileStream(file.path), file.name, { tenantId: scope.job.tenantId, onRefuse: 'keep' });
      children.push({ documentId: doc.id, source: childSource(scope.jobDoc.source, file.index, file.name), parentId: scope.jobDoc.documentId });
    }
    signal.throwIfAborted();
    if (children.length > 0) await engine.addDocuments(scope.job.id, children);
    return refusalWarnings(refused);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Refused inner files named one by one in the parent's warnings; past these, one warning counts the rest. */
export const NAMED_REFUSALS = 20;

/**
 * A warning per refused inner file, up to {@link NAMED_REFUSALS}, then one for the rest: a message
 * of 3,000 attachments had made 2,900 warnings and a result line of 466 KB.
 */
function refusalWarnings(refused: readonly InnerFileRefusal[]): PageWarning[] {
  const named = refused.slice(0, NAMED_REFUSALS).map((r): PageWarning => ({ page: 1, code: r.code, message: `attachment ${r.index} (${r.name}) not read: ${r.message}` }));
  const rest = refused.slice(NAMED_REFUSALS);
  if (rest.length === 0) return named;
  const [first] = rest;
  const last = rest.at(-1);
  if (first === undefined || last === undefined) return named;
  return [...named, { page: 1, code: 'resource_limit', message: `${rest.length} more attachments not read (${first.index} to ${last.index}); the first of them, ${first.index} (${first.name}): ${first.message}` }];
}
