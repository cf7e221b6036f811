import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';
import { uniqueName } from './services.ts';

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where s3rver keeps its files (to look for leftovers). */
  directory: string;
  close(): Promise<void>;
}

/** s3rver's fixed development credentials. */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * An S3 server on 127.0.0.1 (a random port) over a fresh temp folder with one fresh bucket, removed
 * on close. Clients must use path-style addressing (`forcePathStyle: true`).
 *
 * s3rver 3 lacks ListParts and AbortMultipartUpload, which lib-storage (on failure) and
 * @tus/s3-store (on every resume) call; both are added here over s3rver's own part files
 * (`<bucket>/._S3rver_uploads/<uploadId>/<partNumber>` with a `.md5` beside each). It also reads
 * `Range: bytes=N-0` as "to the end"; see `fixSingleByteRange`.
 */
export interface S3ServerOptions {
  /** Awaited before each request is served (to hold one back, e.g. a CopyObject: a PUT with `x-amz-copy-source`). */
  beforeRequest?: (request: { method: string; path: string; headers: Readonly<Record<string, string | string[] | undefined>> }) => Promise<void>;
}

export async function startS3Server(options: S3ServerOptions = {}): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'ream-s3rver-'));
  const bucket = uniqueName('ream').replace(/_/g, '-').toLowerCase();
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const uploadsDir = (name: string): string => server.store.getResourcePath(name, undefined, 'uploads');
  // After the logger and the XML serialiser (indexes 0 and 1), before routing: a plain-object body becomes XML.
  server.middleware.splice(2, 0, async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if (typeof uploadId !== 'string' || !match || !/^[0-9a-f]+$/.test(uploadId)) return next();
    const [, name = '', key = ''] = match;
    const dir = join(uploadsDir(name), uploadId);
    if (ctx.method === 'DELETE') {
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method !== 'GET') return next();
    const listing = await listParts(dir, name, decodeURIComponent(key), uploadId, Number(ctx.query['part-number-marker'] ?? 0));
    ctx.status = listing === undefined ? 404 : 200;
    ctx.body = listing ?? { Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.' } };
  });
  const { beforeRequest } = options;
  if (beforeRequest !== undefined) {
    server.middleware.splice(2, 0, async (ctx, next) => {
      await beforeRequest({ method: ctx.method, path: ctx.path, headers: ctx.headers });
      return next();
    });
  }
  fixSingleByteRange(server);
  writeObjectsSafely(server);
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    credentials: CREDENTIALS,
    directory,
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

async function listParts(dir: string, bucket: string, key: string, uploadId: string, marker: number): Promise<object | undefined> {
  const names = await readdir(dir).catch(() => undefined);
  if (names === undefined) return undefined;
  const numbers = names.filter((name) => /^\d+$/.test(name)).map(Number).filter((n) => n > marker).sort((a, b) => a - b);
  const parts = await Promise.all(numbers.map(async (n) => {
    const info = await stat(join(dir, String(n)));
    const md5 = (await readFile(join(dir, `${n}.md5`), 'utf8')).trim();
    return { PartNumber: n, LastModified: info.mtime.toISOString(), ETag: `"${md5}"`, Size: info.size };
  }));
  return {
    ListPartsResult: {
      Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker, MaxParts: 10_000, IsTruncated: false,
      ...(parts.length === 0 ? {} : { NextPartNumberMarker: numbers.at(-1), Part: parts }),
    },
  };
}

/**
 * s3rver's putObject makes the key's folder, then opens the file without an 'error' handler, and
 * its deleteObject removes folders left empty. When ream deletes one `blobs/tmp/…` key while it
 * writes another there (seen on a busy machine), the folder can go between the two steps: the
 * open's ENOENT was an uncaught exception that ended the test process. Here the file is opened
 * first (its folder made again if it went) and written through a pipeline, whose errors fail
 * the request instead.
 */
function writeObjectsSafely(server: S3rver): void {
  const { store } = server;
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    const file = await openMakingFolder(path);
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content, count, file.createWriteStream());
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}

async function openMakingFolder(path: string): Promise<FileHandle> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(path), { recursive: true });
    try {
      return await open(path, 'w');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw error;
    }
  }
}

/** s3rver treats a range ending at byte 0 (`bytes=0-0`) as open-ended (`end || Infinity`): serve that one byte. */
function fixSingleByteRange(server: S3rver): void {
  const { store } = server;
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await getObject(bucket, key, options);
    if (options?.end !== 0 || !object?.content || !object.range) return object;
    (object.content as Readable).destroy();
    object.content = createReadStream(store.getResourcePath(bucket, key, 'object'), { start: 0, end: 0 });
    object.range = { start: 0, end: 0 };
    return object;
  };
}
