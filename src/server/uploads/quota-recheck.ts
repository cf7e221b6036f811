import type { Server } from '@tus/server';
import type { CancellationContext, Upload } from '@tus/utils';
import { PROBLEM_CONTENT_TYPE, UNAVAILABLE_RETRY_AFTER_S, toProblem } from '../problem.ts';

/** Bytes a PATCH takes between two checks of its tenant's storage quota. */
export const QUOTA_RECHECK_BYTES = 8 * 1024 * 1024;
/** Or this long, in ms, once some bytes came since the last check (a slow sender). */
export const QUOTA_RECHECK_MS = 5_000;

/**
 * Refuses (throws, e.g. `quota_exceeded`) when the tenant's storage quota no longer has room for
 * `upload`, of which the PATCH in progress has brought `received` bytes so far.
 */
export type StorageRecheck = (upload: Upload, received: number) => Promise<void>;

type WriteToStore = (body: ReadableStream | null, upload: Upload, maxBytes: number, context: CancellationContext) => Promise<number>;
type Send = (req: Request, context: CancellationContext, headers?: Headers) => Promise<Response>;
/** The PATCH handler's own steps (writeToStore is protected in its typings; replaced on the instance as HEAD's send is). */
interface PatchSteps {
  writeToStore: WriteToStore;
  send: Send;
}

interface Refusal {
  error: unknown;
  /** The upload's declared length: a PATCH that reached it anyway ended the upload, and answers so. */
  size: number | undefined;
}

/**
 * A PATCH carrying a long body is checked against its tenant's storage quota at its start and
 * when the upload ends; other uploads and documents may fill the quota meanwhile (or an admin
 * lower it). Its body is checked again every {@link QUOTA_RECHECK_BYTES} (or
 * {@link QUOTA_RECHECK_MS} when slow), one check at a time, beside the writing: refused, the
 * PATCH stops taking bytes, keeps those written (its upload's offset) and answers the refusal
 * (429 `quota_exceeded`) with that Upload-Offset, closing the connection rather than reading the rest.
 */
export function recheckStorageWhileWriting(tus: Server, recheck: StorageRecheck): void {
  const patch = tus.handlers.PATCH as unknown as PatchSteps;
  const writeToStore = patch.writeToStore.bind(patch);
  const send = patch.send.bind(patch);
  const refusals = new WeakMap<CancellationContext, Refusal>();
  patch.writeToStore = (body, upload, maxBytes, context) => {
    if (body === null) return writeToStore(body, upload, maxBytes, context);
    const checked = body.pipeThrough(checkedEvery(upload, recheck, (error) => {
      refusals.set(context, { error, size: upload.size });
      // tus's own way of ending a PATCH early: what came is written, the offset answered.
      context.abort();
    }));
    return writeToStore(checked, upload, maxBytes, context);
  };
  patch.send = async (req, context, headers) => {
    const response = await send(req, context, headers);
    const refusal = refusals.get(context);
    const offset = Number(response.headers.get('upload-offset'));
    if (refusal === undefined || response.status !== 204 || (refusal.size !== undefined && offset >= refusal.size)) return response;
    const problem = toProblem(refusal.error);
    const body = JSON.stringify(problem);
    const answer = new Headers(response.headers);
    answer.set('content-type', PROBLEM_CONTENT_TYPE);
    answer.set('content-length', String(Buffer.byteLength(body)));
    // A check the store could not answer: as every 503, when to try again.
    if (problem.status === 503) answer.set('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
    return new Response(body, { status: problem.status, headers: answer });
  };
}

/** Passes the body through, starting a check every so many bytes or seconds; `refuse` once one fails, unless the body had ended. */
function checkedEvery(upload: Upload, recheck: StorageRecheck, refuse: (error: unknown) => void): TransformStream<Uint8Array, Uint8Array> {
  let received = 0;
  let checkedAt = 0;
  let checkedTime = Date.now();
  let checking = false;
  let over = false;
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      received += chunk.byteLength;
      const due = received - checkedAt >= QUOTA_RECHECK_BYTES || (received > checkedAt && Date.now() - checkedTime >= QUOTA_RECHECK_MS);
      if (checking || over || !due) return;
      checking = true;
      checkedAt = received;
      checkedTime = Date.now();
      recheck(upload, received).then(() => {
        checking = false;
      }, (error: unknown) => {
        if (over) return;
        over = true;
        refuse(error);
      });
    },
    flush() {
      // Every byte came: the upload's end checks the quota against what it holds.
      over = true;
    },
  });
}
