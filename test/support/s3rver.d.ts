// s3rver ships no types: the part of its API the test S3 server uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    configureBuckets?: { name: string }[];
  }

  /** The Koa context as far as the extra routes read and write it. */
  interface S3rverContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    headers: Record<string, string | string[] | undefined>;
    status: number;
    body: unknown;
  }

  type Middleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;

  interface S3rverObject {
    content: NodeJS.ReadableStream | null;
    range?: { start: number; end: number };
  }

  /** An object as s3rver's routes hand it to the store to keep. */
  interface S3rverPut {
    bucket: string;
    key: string;
    content: Buffer | NodeJS.ReadableStream;
    metadata: Record<string, string>;
  }

  interface S3rverStore {
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    putObject(object: S3rverPut): Promise<{ size: number; md5: string }>;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
    getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3rverObject | null>;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Koa's middleware list; s3rver composes it when it starts listening. */
    middleware: Middleware[];
    store: S3rverStore;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
