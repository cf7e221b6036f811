import type { Readable } from 'node:stream';
import { ReamError } from '../errors.ts';
import type { StorageBound } from './credits/credit-keeper.ts';
import { sniffStream, type OnRefuse } from '../formats/sniff-stream.ts';
import type { DocumentRecord } from '../store/port.ts';
import type { Engine } from './engine.ts';
import { DEFAULT_TENANT } from '../store/port.ts';

export interface StoreDocumentOptions {
  /** The owner. Default `local`. */
  tenantId?: string;
  /** Refuse content longer than this (`file_too_large`), counted as it streams. */
  maxBytes?: number;
  /** Refuse content whose sha256 (hex) differs (`checksum_mismatch`; nothing is stored). */
  expectedSha256?: string;
  /**
   * Content that sniffing refuses (`empty_file`, `unsupported_type`, `invalid_pdf`, `invalid_image`, …): `drain`
   * (default) throws after reading the rest, `destroy` throws and destroys the stream, `keep`
   * stores it under the media type its name suggests (a job's file: its inspection fails the
   * document with that code, as for a file read from a path).
   */
  onRefuse?: OnRefuse;
  /**
   * Counts the bytes against the tenant's storage quota once they have all come, one check at a
   * time per tenant, their room reserved until they are recorded (`quota_exceeded`; nothing is stored). Not for a caller already within it.
   * Reading stops (`quota_exceeded`) as soon as the bytes pass what could fit or be content the
   * tenant holds (see `StorageBound`), not at the end of a file that cannot be taken.
   */
  storageQuota?: boolean;
}

/**
 * Stores a stream as the tenant's document named `basename(name)`, streamed into the blob store
 * (never buffered whole). Its first bytes decide its media type (`formats/sniff.ts`); the name
 * only picks between readers the content allows. The same content is one document per tenant.
 */
export async function storeDocument(
  engine: Engine,
  stream: Readable | AsyncIterable<Uint8Array>,
  name: string,
  options: StoreDocumentOptions = {},
): Promise<DocumentRecord> {
  const { tenantId = DEFAULT_TENANT } = options;
  const bound = options.storageQuota === true ? await engine.settings.credits.storageBound(tenantId) : undefined;
  const { mediaType, body } = await sniffStream(bound === undefined ? stream : withinBound(stream, bound), name, options.onRefuse ?? 'drain', options.maxBytes);
  return engine.storeDocument(body, name, tenantId, {
    mediaType,
    // Only the check holds the tenant's lock: the room is reserved, and the blob placed (an S3
    // CopyObject of up to 5 GB) and recorded outside it, so the tenant's other stores go on.
    ...(options.storageQuota === true ? { within: (bytes, publish) => engine.settings.credits.withReservedStorage(tenantId, bytes, publish) } : {}),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    ...(options.expectedSha256 === undefined ? {} : { expectedSha256: options.expectedSha256 }),
  });
}

/** `stream`, failing with `quota_exceeded` once its bytes pass `bound.maxBytes` (the source is then released, not drained). */
async function* withinBound(stream: Readable | AsyncIterable<Uint8Array>, bound: StorageBound): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const piece of stream as AsyncIterable<Uint8Array | string>) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    size += chunk.byteLength;
    if (size > bound.maxBytes) {
      throw new ReamError('quota_exceeded', `the file passes the room the storage quota leaves: the limit is ${bound.limit}, ${bound.used} used, and ${size} bytes have come`, {
        details: { quota: 'storageBytes', limit: bound.limit, used: bound.used, needed: size },
      });
    }
    yield chunk;
  }
}
