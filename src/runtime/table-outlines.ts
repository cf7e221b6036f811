// A stored table's sheets and header columns (`POST /v1/documents/:id/inspect`), so a user picks
// the rows pipeline's `sheet` and `columns` before submitting. Read in the thread pool: a hostile
// workbook meets the thread's memory cap, as when it is read for a job.
import type { BlobFiles } from '../blobs/local-copy.ts';
import { ReamError } from '../errors.ts';
import type { Formats } from '../formats/registry.ts';
import type { TableOutline } from '../formats/types.ts';
import type { DocumentRecord } from '../store/port.ts';

export interface TableOutlinePorts {
  formats: Formats;
  /** Local files of the blobs, shared with the other readers of stored documents. */
  blobFiles: BlobFiles;
}

export class TableOutlines {
  readonly #ports: TableOutlinePorts;
  readonly #files: BlobFiles;

  constructor(ports: TableOutlinePorts) {
    this.#ports = ports;
    this.#files = ports.blobFiles;
  }

  /** The document's sheets and their columns; `unsupported_type` for a document that is not a table. */
  async outline(doc: DocumentRecord, signal?: AbortSignal): Promise<TableOutline> {
    const format = this.#ports.formats.byMediaType(doc.mediaType);
    if (format?.outline === undefined) throw ReamError.nonRetryable('unsupported_type', `${doc.mediaType} documents are not tables: they have no sheets or columns`);
    const file = await this.#files.acquire(doc.sha256);
    try {
      return await format.outline(file.path, signal);
    } finally {
      file.release();
    }
  }
}
