import type { Readable } from 'node:stream';
import { ReamError } from '../../errors.ts';
import { HEAD_BYTES } from '../../formats/file-checks.ts';
import { sniff } from '../../formats/sniff.ts';

export interface SniffedStream {
  /** What the content is (`application/pdf`, `text/plain`, …), decided by its first bytes. */
  mediaType: string;
  /** The whole content again, head included: read it once, as it arrives (never buffered whole). */
  body: AsyncIterable<Uint8Array>;
}

/**
 * Reads the first {@link HEAD_BYTES} of `stream` and sniffs them (the content decides, the name
 * only picks between readers the content allows). Throws `empty_file`, `unsupported_type` or
 * `invalid_pdf`; on refusal the rest is drained (`drain`, for a request body that must be read
 * to its end) or the stream is destroyed.
 */
export async function sniffStream(stream: Readable, name: string, onRefuse: 'drain' | 'destroy'): Promise<SniffedStream> {
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
  try {
    if (length === 0) throw ReamError.nonRetryable('empty_file', 'the file is empty (0 bytes)');
    mediaType = sniff(Buffer.concat(head).subarray(0, HEAD_BYTES), name);
  } catch (error) {
    if (onRefuse === 'drain' && !ended) {
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        // discard
      }
    } else await iterator.return?.();
    throw error;
  }
  async function* body(): AsyncGenerator<Uint8Array> {
    yield* head;
    if (ended) return;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
  }
  return { mediaType, body: body() };
}
