import type { Readable } from 'node:stream';
import { ReamError } from '../errors.ts';
import { HEAD_BYTES } from './file-checks.ts';
import { oleRefusalOfStream } from './ole/ole-container.ts';
import { isOle2, mediaTypeByName, sniff } from './sniff.ts';

/** Longest refused OLE2 upload whose directory is read without a `maxBytes` of the caller's (see {@link sniffStream}). */
const OLE_READ_MAX_BYTES = 1024 ** 3;

export interface SniffedStream {
  /** What the content is (`application/pdf`, `text/plain`, …), decided by its first bytes. */
  mediaType: string;
  /** The whole content again, head included: read it once, as it arrives (never buffered whole). */
  body: AsyncIterable<Uint8Array>;
}

/**
 * What to do with content that sniffing refuses: throw and drain the rest (`drain`, for a request
 * body that must be read to its end), throw and destroy the stream (`destroy`), or keep it with
 * the media type its name suggests (`keep`: a job's file, whose inspection then fails the
 * document with the same code, as for a file read from a path).
 */
export type OnRefuse = 'drain' | 'destroy' | 'keep';

/**
 * Reads the first {@link HEAD_BYTES} of `stream` and sniffs them (the content decides, the name
 * only picks between readers the content allows). Unless `onRefuse` is `keep`, throws
 * `empty_file`, `unsupported_type`, or the code of the format the name claims (`invalid_pdf`,
 * `invalid_sheet`, `invalid_docx`, `invalid_image`, `invalid_email`, `invalid_text`). An OLE2
 * file it refuses is read to its end (up to `maxBytes`) to be refused as its directory says:
 * `encrypted_file` for a password-protected Office document, as for a file read from a path.
 */
export async function sniffStream(stream: Readable | AsyncIterable<Uint8Array>, name: string, onRefuse: OnRefuse, maxBytes = OLE_READ_MAX_BYTES): Promise<SniffedStream> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const head: Uint8Array[] = [];
  let length = 0;
  let ended = false;
  while (length < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    head.push(next.value);
    length += next.value.length;
  }
  let mediaType: string;
  const headBytes = Buffer.concat(head).subarray(0, HEAD_BYTES);
  try {
    if (length === 0) throw ReamError.nonRetryable('empty_file', 'the file is empty (0 bytes)');
    mediaType = sniff(headBytes, name);
  } catch (error) {
    if (onRefuse === 'keep' && error instanceof ReamError) mediaType = mediaTypeByName(name);
    else if (isOle2(headBytes)) {
      throw (await oleRefusalOfStream(head, ended ? undefined : iterator, name, maxBytes)) ?? error;
    }
    else if (onRefuse === 'drain' && !ended) {
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        // discard
      }
      throw error;
    } else {
      await iterator.return?.();
      throw error;
    }
  }
  async function* body(): AsyncGenerator<Uint8Array> {
    yield* head;
    if (ended) return;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { mediaType, body: body() };
}
