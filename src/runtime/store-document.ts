import type { Readable } from 'node:stream';
import { sniffStream, type OnRefuse } from '../formats/sniff-stream.ts';
import type { DocumentRecord } from '../store/port.ts';
import type { Engine } from './engine.ts';

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
  const { mediaType, body } = await sniffStream(stream, name, options.onRefuse ?? 'drain');
  return engine.storeDocument(body, name, options.tenantId, {
    mediaType,
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    ...(options.expectedSha256 === undefined ? {} : { expectedSha256: options.expectedSha256 }),
  });
}
