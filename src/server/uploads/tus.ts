// Over 300 lines on purpose: the tus routes, their hooks (size, sniffing, checksum, storing the
// document) and the expired-upload sweep share one @tus/server instance and its options.
import type { IncomingMessage } from 'node:http';
import { ERRORS as TUS_ERRORS, EVENTS, Server, type ServerOptions as TusOptions } from '@tus/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import { uploadExpired, type Ream, type UnfinishedUpload, type UnfinishedUploads, type UploadExpiry } from '../../runtime/create-ream.ts';
import { countUploadBytes } from '../metrics.ts';
import { PROBLEM_CONTENT_TYPE, UNAVAILABLE_RETRY_AFTER_S, problemForStatus, sendProblem, toProblem, type Problem } from '../problem.ts';
import { canSee, principalOf } from '../auth/principal.ts';
import { TENANT } from '../auth/access.ts';
import { idParams, problemResponses } from '../openapi.ts';
import { UPLOAD_ID, storeUploadRecords, type FindUploadInProgress, type UploadRecord } from './records.ts';
import { sanitizeFileName } from './file-name.ts';
import { embeddedTusStorage, type TusStorage } from './storage.ts';
import { indexTenantUploads } from './tenant-uploads.ts';
import { recheckStorageWhileWriting } from './quota-recheck.ts';
import { tusCorsOptions, type CorsOptions } from '../cors.ts';

export const UPLOADS_PATH = '/v1/uploads';
const TUS_VERSION = '1.0.0';
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** How long the removal of a stored upload's tus copy waits for the request holding it, in ms. */
const LOCK_WAIT_MS = 30_000;
/** Metadata reads of a tenant's unfinished uploads in flight at once, when its storage quota counts them. */
const UNFINISHED_READS_AT_ONCE = 16;
/** How long an upload's end, or its termination, waits for an end in progress on another instance, in ms (a big file's is long). */
const END_LOCK_WAIT_MS = 300_000;
/** The request's tenant, handed to the tus hooks (set by the server on every request it passes on). */
const TENANT_HEADER = 'x-ream-tenant';
/** Upload metadata key holding the owning tenant (set by the server at creation; a client's value is replaced). */
const TENANT_METADATA = 'reamTenant';

function tenantOfUpload(upload: TusUpload): string | undefined {
  const tenant = upload.metadata?.[TENANT_METADATA];
  return typeof tenant === 'string' && tenant !== '' ? tenant : undefined;
}

export interface UploadRouteOptions {
  /** Folder for partial uploads (`files/`, tus ids only) and upload records (`records/`); unused when `storage` is given. */
  dir: string;
  /** Largest upload in bytes (tus `maxSize`; over it: 413 `file_too_large`). */
  maxFileBytes: number;
  /**
   * An unfinished upload of a tenant without a lifetime of its own (`retention.uploadTenants`)
   * expires this long after its creation, in ms. Default: the ream's `retention.uploadsHours` (24 h).
   */
  expiryMs?: number;
  /** How often expired uploads are swept, in ms. */
  cleanupIntervalMs: number;
  /**
   * Where uploads live. Default: `embeddedTusStorage(dir, …)` (files under `dir`, locks in
   * memory: one server). Several server instances share a `distributedTusStorage`; its owner closes it.
   */
  storage?: TusStorage;
  /** Origins whose pages may upload (tus answers its own CORS); none by default. */
  cors?: CorsOptions;
  /**
   * The URL browsers reach the server at (`publicUrl`), maybe under a proxy's path prefix
   * (`/ream/`): when set, an upload's Location is relative to the creation's URL, so that it
   * stays under the prefix. Default: absolute, from the request's own host and path.
   */
  publicUrl?: string;
}

type TusRequest = Parameters<NonNullable<TusOptions['onUploadFinish']>>[0];
type TusUpload = Parameters<NonNullable<TusOptions['onUploadFinish']>>[1];

/** A refusal that @tus/server sends as is (it reads `status_code` and `body`): a problem+json document. */
class UploadRefused extends Error {
  readonly status_code: number;
  readonly body: string;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail);
    this.problem = problem;
    this.status_code = problem.status;
    this.body = JSON.stringify(problem);
  }
}

const PROBLEM_BODY_START = '{"type":"urn:ream:problem:';

/**
 * @tus/server whose every error is a problem document: ours (refusals) as they are, its own
 * protocol errors (text such as "Tus-Resumable Required") turned into one with the code of their
 * status. The status and tus headers (Tus-Resumable, Upload-Offset, …) stay as tus set them.
 */
class ProblemTusServer extends Server {
  constructor(options: ConstructorParameters<typeof Server>[0]) {
    super(options);
    // A HEAD answers the client's metadata, not the tenant the server keeps beside it.
    const head = this.handlers.HEAD;
    const send = head.send.bind(head);
    head.send = async (...args) => {
      const response = await send(...args);
      const metadata = response.headers.get('upload-metadata');
      if (metadata === null) return response;
      const kept = metadata.split(',').filter((pair) => pair.trim().split(' ')[0] !== TENANT_METADATA);
      if (kept.length > 0) response.headers.set('upload-metadata', kept.join(','));
      else response.headers.delete('upload-metadata');
      return response;
    };
  }

  override write(context: Parameters<Server['write']>[0], headers: Headers, status: number, body?: string): ReturnType<Server['write']> {
    // tus 1.0: a version the server does not speak is 412 with the versions it does. @tus/server
    // counts it among its invalid headers (400) and only sends 412 when the header is missing.
    if (status === 400 && body !== undefined && /^Invalid .*\btus-resumable\b/i.test(body)) {
      status = 412;
      body = `Tus-Resumable ${TUS_VERSION} is the only version this server speaks\n`;
      headers.set('Tus-Version', TUS_VERSION);
    }
    // A PATCH's body without tus's own type (none, another, or with parameters): tus 1.0 says 415;
    // @tus/server says 403 (read as a credentials matter) for none and 400 for another.
    if ((status === 403 && body !== undefined && /^Content-Type header required/i.test(body)) || (status === 400 && body !== undefined && /^Invalid .*\bcontent-type\b/i.test(body))) {
      status = 415;
      body = JSON.stringify(toProblem(ReamError.nonRetryable('unsupported_type', 'a PATCH takes its bytes as Content-Type: application/offset+octet-stream')));
    }
    // Another request holds the upload (the same file in two tabs): no server failure, and
    // 409 is one a tus client retries.
    if (status === 500 && body !== undefined && /failed to acquire lock/i.test(body)) {
      status = 409;
      body = JSON.stringify(toProblem(ReamError.nonRetryable('in_use', 'another request is writing this upload (the same file sent from two places): it can resume once that one ends')));
    }
    // An extension this server does not take (concatenation: parallel uploads): the client's
    // request is the matter, and tus's words say what to do. A 4xx, as its code is: tus-js-client
    // sends a 5xx again after each of its retry delays, to the same refusal.
    if (status === 501 && body !== undefined && body.startsWith(PROBLEM_BODY_START) !== true) {
      status = 400;
      body = JSON.stringify(toProblem(ReamError.nonRetryable('validation_failed', body.trim())));
    }
    if (status >= 400 && body?.startsWith(PROBLEM_BODY_START) !== true) {
      body = JSON.stringify(problemForStatus(status, (body ?? '').trim() || `tus refused the request (${status})`));
    }
    if (body?.startsWith(PROBLEM_BODY_START) === true) headers.set('content-type', PROBLEM_CONTENT_TYPE);
    // A PATCH at another offset than the upload's: the offset to resume from, as HEAD says it.
    const serverOffset = status === 409 ? offsetOfMismatch(body) : undefined;
    if (serverOffset !== undefined) headers.set('Upload-Offset', String(serverOffset));
    if (status === 503 && !headers.has('retry-after')) headers.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER_S));
    return super.write(context, headers, status, body);
  }
}

/** The server's offset an `upload_offset_mismatch` problem carries (`details.offset`), if `body` is one. */
function offsetOfMismatch(body: string | undefined): number | undefined {
  if (body?.startsWith(`${PROBLEM_BODY_START}upload_offset_mismatch"`) !== true) return undefined;
  const offset = (JSON.parse(body) as { details?: { offset?: unknown } }).details?.offset;
  return typeof offset === 'number' ? offset : undefined;
}

/**
 * tus's 413: bytes past the upload's Upload-Length or the server's limit. Thrown as a plain
 * object when a Content-Length says so up front, and as an Error (MaxFileExceededError) when a
 * chunked body brings them: that one was taken for a storage failure, a 500.
 */
function tooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { status_code?: unknown }).status_code === 413;
}

/** A PATCH's Upload-Length tus refused: one set already cannot change, a deferred one cannot be less than the bytes held. */
function lengthRefused(sent: string | null, upload: TusUpload): UploadRefused {
  const message = upload.size === undefined
    ? `Upload-Length ${String(sent)} is less than the ${upload.offset} bytes the upload holds`
    : `the upload's Upload-Length is ${upload.size} already: it cannot change (sent ${String(sent)})`;
  return new UploadRefused(toProblem(ReamError.nonRetryable('validation_failed', message)));
}

/**
 * Removes a PATCH's Upload-Length that says what the upload's is already. tus-js-client sends it
 * with the last chunk of a deferred-length upload, and sends it again when that chunk is cut and
 * resumed; tus refuses any Upload-Length once one is set (400), so the resume failed for good.
 */
function dropRepeatedLength(raw: IncomingMessage, size: number): void {
  if (raw.headers['upload-length'] !== String(size)) return;
  delete raw.headers['upload-length'];
  const headers = raw.rawHeaders;
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]?.toLowerCase() === 'upload-length') headers.splice(i, 2);
}

/** A PATCH whose Upload-Offset is not the upload's: `upload_offset_mismatch`, with the offset to resume from. */
function offsetMismatch(sent: string | null, offset: number): UploadRefused {
  const claimed = Number(sent);
  return new UploadRefused(toProblem(ReamError.nonRetryable('upload_offset_mismatch', `Upload-Offset ${String(sent)} is not the upload's offset: it has ${offset} bytes, go on from there`, {
    details: { offset, ...(Number.isSafeInteger(claimed) ? { sent: claimed } : {}) },
  })));
}

/**
 * Whether a request's body holds a byte: by its Content-Length, or, sent chunked without one, by
 * its first piece (read only that far; an empty body ends at once).
 */
async function bringsBytes(request: FastifyRequest): Promise<boolean> {
  const declared = request.headers['content-length'];
  if (declared !== undefined) return Number(declared) > 0;
  if (request.headers['transfer-encoding'] === undefined) return false;
  // Not an async iterator: leaving one early would destroy the socket the answer goes out on.
  const body = request.raw;
  return new Promise((resolve, reject) => {
    const settle = (brings: boolean): void => {
      body.off('data', onData).off('end', onEnd).off('error', reject);
      body.pause();
      resolve(brings);
    };
    const onData = (piece: Buffer): void => {
      if (piece.length > 0) settle(true);
    };
    const onEnd = (): void => settle(false);
    body.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

function refused(error: unknown): UploadRefused {
  return error instanceof UploadRefused ? error : new UploadRefused(toProblem(error));
}

/** The client's declared sha256 (lower-cased), if any; a malformed one is `validation_failed`. */
function declaredSha256(upload: TusUpload): string | undefined {
  const value = upload.metadata?.sha256;
  if (value === undefined || value === null) return undefined;
  const sha = value.toLowerCase();
  if (!SHA256_HEX.test(sha)) throw ReamError.nonRetryable('validation_failed', 'Upload-Metadata "sha256" must be 64 hex digits');
  return sha;
}

/** The display name from metadata (never a path: see {@link sanitizeFileName}). */
function displayName(upload: TusUpload): string {
  return sanitizeFileName(upload.metadata?.filename ?? upload.metadata?.name, `upload-${upload.id}`);
}

const uploadIdParams = idParams('Upload id (the last segment of the Location of its creation)');

/** tus requests are answered by the tus protocol (headers, no JSON body), errors as problem+json. */
const TUS_CREATE_SCHEMA = {
  summary: 'tus 1.0: create an upload (creation, creation-with-upload, creation-defer-length)',
  description:
    'Headers: Tus-Resumable: 1.0.0, Upload-Length (or Upload-Defer-Length: 1), Upload-Metadata (filename, and optionally sha256 of the whole file, base64). Answers 201 with Location.',
  response: {
    201: { description: 'Created: Location names the upload; Upload-Offset when the request carried bytes (creation-with-upload)', type: 'null' },
    204: { description: 'OPTIONS: Tus-Version, Tus-Extension, Tus-Max-Size', type: 'null' },
    ...problemResponses,
  },
} as const;

const TUS_UPLOAD_SCHEMA = {
  summary: 'tus 1.0: HEAD (offset), PATCH (append at Upload-Offset), DELETE (termination) of an upload',
  description: 'One request holds an upload at a time: a newer HEAD, PATCH or DELETE of it ends the one in progress, whose PATCH then answers 204 with the Upload-Offset it reached.',
  params: uploadIdParams,
  response: {
    200: { description: 'HEAD: Upload-Offset, and Upload-Length once known', type: 'null' },
    204: { description: 'PATCH: the bytes were kept, Upload-Offset says up to where; DELETE: the upload is gone; OPTIONS: the tus headers', type: 'null' },
    ...problemResponses,
  },
} as const;

const UPLOAD_RECORD_SCHEMA = {
  summary: 'An upload: uploading (with its offset), stored (with its document) or failed (with the problem)',
  params: uploadIdParams,
  response: {
    200: {
      type: 'object',
      required: ['id', 'status'],
      properties: {
        id: { type: 'string' },
        status: { type: 'string', enum: ['uploading', 'stored', 'failed'] },
        name: { type: 'string' },
        size: { type: ['integer', 'null'], description: 'bytes; null while the length is deferred' },
        offset: { type: 'integer', description: 'bytes received so far (uploading)' },
        expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'when an unfinished upload is removed' },
        createdAt: { type: 'integer', description: 'Unix time in milliseconds (stored, failed)' },
        documentId: { type: 'string' },
        sha256: { type: 'string' },
        mediaType: { type: 'string' },
        error: { type: 'object', additionalProperties: true, description: 'the problem the upload was refused with (failed)' },
      },
    },
    ...problemResponses,
  },
} as const;

/** When the sweep removes an unfinished upload (its tenant's lifetime after creation), as ISO text. */
function expiresAt(upload: UnfinishedUpload, expiry: UploadExpiry): string | null {
  return upload.createdAt === undefined ? null : new Date(upload.createdAt + expiry.ttlMs(upload.tenantId)).toISOString();
}

function publicRecord(record: UploadRecord): Record<string, unknown> {
  const { tenantId: _tenantId, ...rest } = record;
  return rest;
}

/**
 * tus 1.0 at `/v1/uploads` (creation, creation-with-upload, creation-defer-length, termination,
 * expiration) on @tus/server over `options.storage` (default: files under `options.dir`). A finished upload is checked
 * (declared `sha256`, magic bytes) and streamed into the blob store as a document; its record
 * answers `GET /v1/uploads/:id` and HEAD, and jobs refer to it by upload id.
 */
export function uploadRoutes(app: FastifyInstance, ream: Ream, options: UploadRouteOptions): FindUploadInProgress {
  const expiry = ream.uploadExpiry(options.expiryMs);
  const storage = options.storage ?? embeddedTusStorage(options.dir, expiry.longestMs, storeUploadRecords(ream.uploads));
  const { datastore, locker, records } = storage;
  /** An upload in the tus store, as the retention sweep sees it; undefined when it went meanwhile. */
  const asUnfinished = (upload: TusUpload): UnfinishedUpload => {
    const created = upload.creation_date === undefined ? Number.NaN : Date.parse(upload.creation_date);
    return { id: upload.id, tenantId: tenantOfUpload(upload), createdAt: Number.isNaN(created) ? undefined : created, offset: upload.offset, size: upload.size };
  };
  /**
   * The upload in progress, undefined when the store has none. A failing store is an error, not
   * "none": the tenant check before tus takes a request would be skipped and tus's own read, a
   * moment later, might find it.
   */
  const unfinishedUpload = async (id: string): Promise<UnfinishedUpload | undefined> => {
    try {
      return asUnfinished(await datastore.getUpload(id));
    } catch (error) {
      if (error === TUS_ERRORS.FILE_NOT_FOUND || error === TUS_ERRORS.FILE_NO_LONGER_EXISTS) return undefined;
      throw storage.failure?.(error) ?? error;
    }
  };
  /**
   * Bytes the tenant's other unfinished uploads hold or have declared (a deferred length: what
   * came so far), counted against its storage quota as if stored: many uploads each left just
   * short of their end would otherwise fill the disk past it until they expire.
   */
  const uploadIdsOf = indexTenantUploads(storage, tenantOfUpload);
  const readInfo = storage.readInfo?.bind(storage);
  /** Bytes one upload holds or has declared: a declared length without reading the offset, where that costs requests. */
  const heldBytes = async (id: string, tenantId: string, now: number): Promise<number> => {
    const info = readInfo === undefined ? undefined : await readInfo(id).catch(() => undefined);
    const upload = info?.size === undefined ? await unfinishedUpload(id) : asUnfinished(info);
    if (upload?.tenantId !== tenantId || uploadExpired(upload, expiry, now)) return 0;
    return upload.size ?? upload.offset;
  };
  const unfinishedBytesOf = async (tenantId: string, exceptId: string): Promise<number> => {
    const now = Date.now();
    const ids = (await uploadIdsOf(tenantId)).filter((id) => id !== exceptId && UPLOAD_ID.test(id));
    // A few at a time: each read is a round trip (Redis, S3) in a distributed deployment.
    let total = 0;
    for (let i = 0; i < ids.length; i += UNFINISHED_READS_AT_ONCE) {
      const held = await Promise.all(ids.slice(i, i + UNFINISHED_READS_AT_ONCE).map((id) => heldBytes(id, tenantId, now)));
      for (const bytes of held) total += bytes;
    }
    return total;
  };
  const unfinished: UnfinishedUploads = {
    async *list() {
      for await (const id of storage.listIds()) {
        // One upload the store cannot read now is left for the next sweep, not the end of this one.
        const upload = UPLOAD_ID.test(id) ? await unfinishedUpload(id).catch(() => undefined) : undefined;
        if (upload) yield upload;
      }
    },
    remove: (id) => datastore.remove(id),
  };
  void app.register((scope, _opts, done) => {

    const finish = async (upload: TusUpload, tenantId: string): Promise<UploadRecord> => {
      const name = displayName(upload);
      const expectedSha256 = declaredSha256(upload);
      // Checked at creation against the declared length, and again now against what came (by
      // its content: bytes the tenant holds already cost nothing): a deferred length counted 0
      // then, and uploads created side by side each fitted alone.
      const doc = await ream.storeDocument(await datastore.read(upload.id), name, {
        tenantId,
        onRefuse: 'destroy',
        maxBytes: options.maxFileBytes,
        storageQuota: true,
        ...(expectedSha256 === undefined ? {} : { expectedSha256 }),
      });
      countUploadBytes(ream, 'tus', doc.size);
      const record: UploadRecord = {
        id: upload.id,
        tenantId,
        status: 'stored',
        name,
        size: doc.size,
        createdAt: Date.now(),
        documentId: doc.id,
        sha256: doc.sha256,
        mediaType: doc.mediaType,
      };
      await records.put(record);
      return record;
    };

    /** Stores a finished upload, or remembers why not (its partial bytes go). */
    const finishOrFail = async (upload: TusUpload): Promise<UploadRecord> => {
      const tenantId = tenantOfUpload(upload) ?? '';
      try {
        return await finish(upload, tenantId);
      } catch (error) {
        const ours = error instanceof ReamError || error instanceof UploadRefused;
        const refusal = refused(storage.failure !== undefined && !ours ? storage.failure(error) : error);
        if (refusal.status_code >= 500) app.log.error({ err: error }, 'storing a finished upload failed');
        // Nothing half-done stays: the partial bytes go, the refusal is remembered for GET.
        await datastore.remove(upload.id).catch(() => undefined);
        const failed: UploadRecord = { id: upload.id, tenantId, status: 'failed', name: displayName(upload), size: upload.offset, createdAt: Date.now(), error: refusal.problem };
        await records.put(failed).catch(() => undefined);
        return failed;
      }
    };
    /**
     * Each upload ends once. tus calls its end after the lock is let go, so a PATCH of no bytes at
     * its last offset, sent while the last bytes were stored, ended it a second time: that one
     * read bytes already removed, answered 500 and could record the stored upload as failed.
     */
    const finishing = new Map<string, Promise<UploadRecord>>();
    /**
     * `run` under the upload's end lock, across the deployment's instances (the tus locker, under
     * a name of its own): a PATCH or DELETE of the upload on another instance waits for an end in
     * progress here, which the map above only does within one process. Not taken within the
     * wait, `run` goes on without it.
     */
    const underEndLock = async <T>(id: string, run: () => Promise<T>): Promise<T> => {
      const lock = locker.newLock(`${id}.end`);
      const held = await lock.lock(AbortSignal.timeout(END_LOCK_WAIT_MS), () => undefined).then(() => true, () => false);
      try {
        return await run();
      } finally {
        if (held) await lock.unlock().catch(() => undefined);
      }
    };
    const finishOnce = (upload: TusUpload): Promise<UploadRecord> => {
      let running = finishing.get(upload.id);
      if (running === undefined) {
        running = underEndLock(upload.id, async () => (await records.get(upload.id)) ?? finishOrFail(upload)).finally(() => finishing.delete(upload.id));
        finishing.set(upload.id, running);
      }
      return running;
    };
    /**
     * The storage quota room a PATCH of a deferred-length upload was bounded by (see `maxSize`),
     * so a refusal at that bound says `quota_exceeded` rather than `file_too_large`.
     */
    const quotaBound = new WeakMap<TusRequest, { limit: number; used: number }>();
    /**
     * tus asks this before it locks the upload, and checks it under the lock against the upload's
     * offset there: a deferred-length upload may grow (and declare a length) only up to its
     * tenant's storage room. Checked before the lock alone, two PATCHes of one upload sent at once
     * each passed with the other's bytes not yet counted, and a declared length was never checked.
     */
    const maxSizeOf = async (req: TusRequest, id: string | null): Promise<number> => {
      if (req.method !== 'PATCH' || id === null) return options.maxFileBytes;
      const upload = await unfinishedUpload(id);
      if (upload?.tenantId === undefined || upload.size !== undefined) return options.maxFileBytes;
      const tenantId = upload.tenantId;
      const room = await ream.tenants.storageRoom(tenantId, () => unfinishedBytesOf(tenantId, id));
      if (room === undefined || room.limit - room.used >= options.maxFileBytes) return options.maxFileBytes;
      // At the quota already: nothing more (tus reads 0 as no limit at all).
      if (room.used >= room.limit) await ream.tenants.checkStorage(tenantId, upload.offset, () => unfinishedBytesOf(tenantId, id));
      quotaBound.set(req, room);
      return room.limit - room.used;
    };

    /**
     * The storage quota against an upload's declared length and the tenant's other unfinished
     * uploads, as at its creation: content of that length the tenant holds already (its declared
     * sha256) costs only its bytes on disk until it ends.
     */
    const checkDeclaredLength = async (tenantId: string, id: string, size: number): Promise<void> => {
      // A tenant without a storage quota reads no upload here: its PATCH takes the upload's lock
      // as soon as it can (a DELETE sent just after it waits for its bytes, not the other way).
      if (await ream.tenants.storageRoom(tenantId) === undefined) return;
      const unfinishedBytes = (): Promise<number> => unfinishedBytesOf(tenantId, id);
      const upload = await datastore.getUpload(id).catch(() => undefined);
      const sha256 = upload === undefined ? undefined : declaredSha256(upload);
      if (sha256 !== undefined && await ream.tenants.holdsContent(tenantId, sha256, size)) {
        await ream.tenants.checkUnfinishedStorage(tenantId, size, unfinishedBytes);
      } else {
        await ream.tenants.checkStorage(tenantId, size, unfinishedBytes);
      }
    };

    const tus = new ProblemTusServer({
      path: UPLOADS_PATH,
      // The id from the URL's path, never its query: tus's own reading takes the last part of the
      // whole URL, so `/v1/uploads/x?/<id>` named upload <id> while the tenant check (on the
      // path's `:id`) saw `x`. The path's last part is what the route checked.
      getFileIdFromRequest: (req) => uploadIdOf(req.url),
      // Relative to the creation's own URL (`…/v1/uploads`): a browser behind the proxy goes on
      // under its prefix, a client reaching the server at another address (the SDK on 127.0.0.1,
      // another service) at that address. Made from the public URL, those failed to reach it.
      ...(options.publicUrl === undefined ? {} : { generateUrl: (_req: Request, { path, id }: { path: string; id: string }) => `${path.split('/').pop() ?? ''}/${id}` }),
      ...tusCorsOptions(options.cors),
      datastore,
      locker,
      maxSize: maxSizeOf,
      async onUploadCreate(req, upload) {
        try {
          const tenant = req.headers.get(TENANT_HEADER);
          if (tenant === null || tenant === '') throw new ReamError('internal', 'upload without a tenant');
          // The tenant's storage quota, against the declared length (a deferred length counts 0
          // now, and what it brings at each PATCH) and its other unfinished uploads. A declared
          // sha256 and length of content the tenant holds cost nothing once stored: then only its
          // bytes on disk until it ends count, with those of the other unfinished uploads (else
          // uploads declaring a held sha256 could each hold any bytes past the quota until they expire).
          const sha256 = declaredSha256(upload);
          const unfinishedBytes = (): Promise<number> => unfinishedBytesOf(tenant, upload.id);
          if (sha256 !== undefined && upload.size !== undefined && await ream.tenants.holdsContent(tenant, sha256, upload.size)) {
            await ream.tenants.checkUnfinishedStorage(tenant, upload.size, unfinishedBytes);
          } else {
            await ream.tenants.checkStorage(tenant, upload.size ?? 0, unfinishedBytes);
          }
          return { metadata: { ...upload.metadata, [TENANT_METADATA]: tenant } };
        } catch (error) {
          throw refused(error);
        }
      },
      async onUploadFinish(_req, upload) {
        const record = await finishOnce(upload);
        if (record.status === 'failed') throw new UploadRefused(record.error ?? toProblem(new ReamError('internal', 'upload failed')));
        return { headers: { 'Ream-Document-Id': record.documentId ?? '' } };
      },
      async onResponseError(req: TusRequest, error) {
        let refusal: UploadRefused | undefined;
        if (error instanceof UploadRefused) refusal = error;
        else if (error === TUS_ERRORS.INVALID_OFFSET) {
          const id = uploadIdOf(req.url);
          const upload = id === undefined ? undefined : await datastore.getUpload(id).catch(() => undefined);
          if (upload) refusal = offsetMismatch(req.headers.get('upload-offset'), upload.offset);
        }
        else if (error === TUS_ERRORS.INVALID_LENGTH && req.method === 'PATCH') {
          // tus's words ("Upload-Length or Upload-Defer-Length header required") fit a creation only.
          const id = uploadIdOf(req.url);
          const upload = id === undefined ? undefined : await datastore.getUpload(id).catch(() => undefined);
          if (upload) refusal = lengthRefused(req.headers.get('upload-length'), upload);
        }
        else if (tooLarge(error) && quotaBound.has(req)) {
          const { limit, used } = quotaBound.get(req) ?? { limit: 0, used: 0 };
          const declared = Number(req.headers.get('upload-length') ?? Number.NaN);
          refusal = refused(new ReamError('quota_exceeded', `stored documents (and unfinished uploads) are at the storage quota: the limit is ${limit}, ${used} used, and this upload would pass it`, {
            details: { quota: 'storageBytes', limit, used, ...(Number.isSafeInteger(declared) ? { needed: declared } : {}) },
          }));
        }
        else if (tooLarge(error)) {
          // tus says 413 for both: bytes past the upload's own Upload-Length, and past the server's limit.
          refusal = refused(ReamError.nonRetryable('file_too_large', `the upload is longer than its Upload-Length, or over the limit of ${options.maxFileBytes} bytes`));
        }
        else if (error instanceof Error) {
          // Not one of tus's protocol answers: the storage failed (S3 down, a disk error). Said
          // with its code (`unavailable` when S3 does not answer), and logged.
          refusal = refused(storage.failure?.(error) ?? error);
          if (refusal.status_code >= 500) app.log.error({ err: error }, 'tus request failed');
        }
        if (!refusal) return undefined;
        return { status_code: refusal.status_code, body: refusal.body };
      },
    });
    // A long PATCH is checked against the storage quota as its bytes come, not only at its ends:
    // a declared length as at its creation, a deferred one by what it holds so far.
    recheckStorageWhileWriting(tus, async (upload, received) => {
      const tenantId = tenantOfUpload(upload);
      if (tenantId === undefined) return;
      if (upload.size !== undefined) return checkDeclaredLength(tenantId, upload.id, upload.size);
      await ream.tenants.checkStorage(tenantId, upload.offset + received, () => unfinishedBytesOf(tenantId, upload.id));
    });
    // The document holds the bytes now: the tus copy of a stored upload goes (its record answers
    // HEAD). Under the upload's lock, as tus writes: a PATCH holding it (of no bytes, at the end)
    // would otherwise write to a file removed under it, a 500.
    tus.on(EVENTS.POST_FINISH, (_req: TusRequest, _res: Response, upload: TusUpload) => {
      const lock = locker.newLock(upload.id);
      // The removal is short: it lets go when done, not when asked.
      lock.lock(AbortSignal.timeout(LOCK_WAIT_MS), () => undefined).then(
        () => datastore.remove(upload.id).catch(() => undefined).finally(() => lock.unlock().catch(() => undefined)),
        () => undefined, // not taken within the wait: the expired-upload sweep removes it later
      );
    });

    // A termination (DELETE) that waited for the PATCH holding the upload, whose end is storing it
    // meanwhile: the upload is ended all the same, as a DELETE of a stored upload ends it (its
    // record goes once written; the document stays). Before, the DELETE answered 204 and the
    // upload stayed stored.
    tus.on(EVENTS.POST_TERMINATE, (_req: TusRequest, _res: Response, id: string) => {
      void (finishing.get(id) ?? Promise.resolve()).catch(() => undefined).then(() => underEndLock(id, () => records.delete(id))).catch(() => undefined);
    });

    // Unfinished uploads expire per tenant (the retention sweep, see RetentionSettings.uploadTenants);
    // records of refused ones are kept as long as the longest lifetime.
    const attached = ream.attachUploads(unfinished, { intervalMs: options.cleanupIntervalMs, ...(options.expiryMs === undefined ? {} : { defaultMs: options.expiryMs }) });
    const timer = setInterval(() => {
      records.deleteFailedBefore(Date.now() - expiry.longestMs).catch((error: unknown) => {
        scope.log.warn({ err: error }, 'could not clean up refused uploads');
      });
    }, options.cleanupIntervalMs);
    timer.unref();
    scope.addHook('onClose', (_instance, closed) => {
      attached.detach();
      clearInterval(timer);
      closed();
    });

    // tus reads the request body itself: this scope passes every body through unparsed.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null));

    const passToTus = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      // Replaces whatever a client sent under this name (tus reads rawHeaders).
      const tenant = principalOf(request).tenantId;
      const raw = request.raw.rawHeaders;
      for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i]?.toLowerCase() === TENANT_HEADER) raw.splice(i, 2);
      raw.push(TENANT_HEADER, tenant);
      request.raw.headers[TENANT_HEADER] = tenant;
      reply.hijack();
      try {
        await tus.handle(request.raw, reply.raw);
      } catch (error) {
        request.log.error({ err: error }, 'tus request failed');
        if (!reply.raw.headersSent) {
          // As the error handler answers it: a service that did not answer is 503, with Retry-After.
          const problem = toProblem(error);
          const retry = problem.status === 503 ? { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_S) } : {};
          reply.raw.writeHead(problem.status, { 'content-type': PROBLEM_CONTENT_TYPE, ...retry }).end(JSON.stringify(problem));
        }
        else reply.raw.destroy();
      }
    };

    /**
     * A finished upload has left the tus store: its record answers, the same way for HEAD and
     * PATCH. Stored, it is complete: HEAD 200 with Upload-Offset = Upload-Length, a PATCH of no
     * bytes at that offset 204 (nothing more to take), any other PATCH `upload_offset_mismatch`
     * (or, bytes past its length, `file_too_large`). Refused at its end, its bytes are gone: 410
     * to both, the PATCH with the refusal's code (GET tells it too). DELETE ends either (204); then
     * every request is a 404, as for an upload that never was.
     */
    const answerFinished = async (request: FastifyRequest, reply: FastifyReply, record: UploadRecord): Promise<FastifyReply> => {
      reply.header('tus-resumable', TUS_VERSION).header('cache-control', 'no-store');
      if (request.method === 'DELETE') return reply.code(204).send();
      if (record.status === 'failed') {
        return request.method === 'HEAD' ? reply.code(410).send() : sendProblem(reply, { ...(record.error ?? toProblem(new ReamError('internal', 'upload failed'))), status: 410 });
      }
      const size = record.size ?? 0;
      if (request.method === 'HEAD') return reply.code(200).header('upload-offset', String(size)).header('upload-length', String(size)).send();
      const sent = request.headers['upload-offset'];
      if (sent !== String(size)) return sendProblem(reply.header('upload-offset', String(size)), offsetMismatch(typeof sent === 'string' ? sent : null, size).problem);
      if (await bringsBytes(request)) {
        return sendProblem(reply, toProblem(ReamError.nonRetryable('file_too_large', `upload ${record.id} is complete: its ${size} bytes are all stored, no more are taken`)));
      }
      return reply.code(204).header('upload-offset', String(size)).send();
    };

    scope.route({
      method: ['POST', 'OPTIONS'],
      url: UPLOADS_PATH,
      ...TENANT,
      schema: TUS_CREATE_SCHEMA,
      handler(request, reply) {
        // creation-with-upload whose body is longer than its Upload-Length: tus would make the
        // upload, then refuse its bytes without saying where it is (no Location). Nothing is made.
        const length = Number(request.headers['upload-length']);
        const bringing = Number(request.headers['content-length']);
        // A length that is none (negative: tus refuses it as invalid) is not compared.
        if (request.method === 'POST' && Number.isSafeInteger(length) && length >= 0 && Number.isSafeInteger(bringing) && bringing > length) {
          throw ReamError.nonRetryable('file_too_large', `the request brings ${bringing} bytes, more than its Upload-Length of ${length}`);
        }
        // Creations of a tenant with a storage quota one at a time: each counts the others.
        if (request.method === 'POST') return ream.tenants.withinUploadCreation(principalOf(request).tenantId, () => passToTus(request, reply));
        return passToTus(request, reply);
      },
    });
    scope.route<{ Params: { id: string } }>({
      method: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'],
      url: `${UPLOADS_PATH}/:id`,
      ...TENANT,
      schema: TUS_UPLOAD_SCHEMA,
      async handler(request, reply) {
        const record = request.method === 'OPTIONS' ? undefined : await records.get(request.params.id);
        if (record && !canSee(principalOf(request), record.tenantId)) throw ReamError.nonRetryable('not_found', `no upload ${request.params.id}`);
        // No upload has any other id: none is looked for (the tenant check below needs one).
        if (!record && request.method !== 'OPTIONS' && !UPLOAD_ID.test(request.params.id)) throw ReamError.nonRetryable('not_found', `no upload ${request.params.id}`);
        if (!record && request.method !== 'OPTIONS') {
          // An upload in progress belongs to the tenant that created it.
          const upload = await unfinishedUpload(request.params.id);
          if (upload && (upload.tenantId === undefined || !canSee(principalOf(request), upload.tenantId))) throw ReamError.nonRetryable('not_found', `no upload ${request.params.id}`);
          // Past its tenant's lifetime but not swept yet (the store's own expiry is the longest
          // lifetime of any tenant): it goes now, and tus answers as for any upload that is gone.
          if (upload) await attached.removeIfExpired(upload).catch(() => undefined);
          if (upload?.tenantId !== undefined && upload.size !== undefined && upload.offset < upload.size && request.method === 'PATCH') {
            // A declared length was checked at creation; the quota may have shrunk since, or other
            // uploads and documents filled it: checked again before each PATCH takes more bytes,
            // rather than only once all of them have come.
            await checkDeclaredLength(upload.tenantId, upload.id, upload.size);
          }
          if (upload?.tenantId !== undefined && upload.size === undefined && request.method === 'PATCH') {
            // A deferred length was counted as 0 at creation: what it holds and what this PATCH
            // says it brings count now (a body of unknown length, at its next PATCH).
            const tenantId = upload.tenantId;
            const bringing = Number(request.headers['content-length'] ?? 0) || 0;
            await ream.tenants.checkStorage(tenantId, upload.offset + bringing, () => unfinishedBytesOf(tenantId, upload.id));
          }
          if (upload?.size !== undefined && request.method === 'PATCH') dropRepeatedLength(request.raw, upload.size);
        }
        if (record) {
          if (request.method === 'DELETE') await records.delete(record.id);
          return answerFinished(request, reply, record);
        }
        return passToTus(request, reply);
      },
    });

    scope.get<{ Params: { id: string } }>(`${UPLOADS_PATH}/:id`, { ...TENANT, exposeHeadRoute: false, schema: UPLOAD_RECORD_SCHEMA }, async (request) => {
      const { id } = request.params;
      const record = await records.get(id);
      if (record) {
        if (!canSee(principalOf(request), record.tenantId)) throw ReamError.nonRetryable('not_found', `no upload ${id}`);
        return publicRecord(record);
      }
      if (!UPLOAD_ID.test(id)) throw ReamError.nonRetryable('not_found', `no upload ${id}`);
      const upload = await unfinishedUpload(id);
      if (!upload || upload.tenantId === undefined || !canSee(principalOf(request), upload.tenantId) || uploadExpired(upload, expiry, Date.now())) {
        throw ReamError.nonRetryable('not_found', `no upload ${id}`);
      }
      return {
        id,
        status: 'uploading',
        offset: upload.offset,
        size: upload.size ?? null,
        expiresAt: expiresAt(upload, expiry),
      };
    });
    done();
  });
  return async (id) => {
    const upload = await datastore.getUpload(id).catch(() => undefined);
    return upload && { tenantId: tenantOfUpload(upload), offset: upload.offset, size: upload.size };
  };
}

/** The upload id a tus request names: the last part of its URL's path (not its query), decoded; undefined when none reads. */
export function uploadIdOf(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url, 'http://localhost').pathname;
  } catch {
    return undefined;
  }
  const last = /\/([^/]+)\/?$/.exec(path)?.[1];
  if (last === undefined) return undefined;
  try {
    const id = decodeURIComponent(last);
    return UPLOAD_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
