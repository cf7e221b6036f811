import { S3Store, type MetadataValue } from '@tus/s3-store';
import { IoRedisKvStore, type Upload } from '@tus/utils';
import { openRedisPair, s3ClientConfig, s3Error, type S3Location } from '../../runtime/shared-clients.ts';
import type { UploadRecordStore } from './records.ts';
import { RedisLocker } from './redis-locker.ts';
import { prefixObjectKeys } from './s3-key-prefix.ts';
import type { TusStorage } from './storage.ts';
import { redisTenantUploadIndex } from './tenant-uploads.ts';

export interface DistributedTusStorageOptions {
  /** The deployment's bucket; uploads go under `uploads/` (blobs are under `blobs/`). */
  s3: S3Location;
  redisUrl: string;
  /** Redis key prefix of the deployment. */
  prefix: string;
  /** An unfinished upload expires this long after creation, in ms. */
  expiryMs: number;
  /** Records of finished uploads that every instance sees (the database's). */
  records: UploadRecordStore;
  /** Bytes per S3 part of an upload (S3's minimum is 5 MiB). Default @tus/s3-store's (8 MiB). */
  partSizeBytes?: number;
}

/** The key prefix of tus objects in the bucket. */
export const TUS_OBJECT_PREFIX = 'uploads/';

/**
 * Several server instances: the bytes in S3 (@tus/s3-store, under `uploads/`), the upload
 * metadata cache in Redis (so an instance that did not create an upload knows it without asking
 * S3), locks in Redis (`RedisLocker`), each tenant's upload ids in Redis, records from the caller. A client may resume through
 * any instance.
 */
export async function distributedTusStorage(options: DistributedTusStorageOptions): Promise<TusStorage> {
  const { redis, subscriber, close } = await openRedisPair(options.redisUrl);
  try {
    const locker = new RedisLocker({ redis, subscriber, prefix: options.prefix });
    await locker.ready();
    const datastore = new PrefixedS3Store({
      s3ClientConfig: { ...s3ClientConfig(options.s3), bucket: options.s3.bucket },
      cache: new IoRedisKvStore<MetadataValue>(redis, `${options.prefix}:tus:upload:`),
      expirationPeriodInMilliseconds: options.expiryMs,
      ...(options.partSizeBytes === undefined ? {} : { partSize: options.partSizeBytes }),
    });
    return { datastore, locker, records: options.records, tenantUploads: redisTenantUploadIndex(redis, options.prefix), listIds: () => datastore.listIds(), readInfo: (id) => datastore.info(id), close, failure: (error) => s3Error(error, 'request', 'an upload') };
  } catch (error) {
    await close();
    throw error;
  }
}

const INFO_SUFFIX = '.info';
/** The object holding bytes of an unfinished upload too few for an S3 part (S3Store's `partKey(id, true)`). */
const INCOMPLETE_PART_SUFFIX = '.part';

/** S3Store with its objects under TUS_OBJECT_PREFIX (it has no prefix option of its own). */
class PrefixedS3Store extends S3Store {
  constructor(options: ConstructorParameters<typeof S3Store>[0]) {
    super(options);
    prefixObjectKeys(this.client, TUS_OBJECT_PREFIX);
  }

  /**
   * Every upload has its `<id>.info` object from its creation until it is removed: listing those
   * finds them all (ListObjectsV2, which every S3 API offers, unlike ListMultipartUploads).
   */
  async *listIds(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      // The prefix middleware leaves listings of objects alone: the prefix is given and cut here.
      const page = await this.client.listObjectsV2({ Bucket: this.bucket, Prefix: TUS_OBJECT_PREFIX, ...(token === undefined ? {} : { ContinuationToken: token }) });
      for (const { Key: key } of page.Contents ?? []) {
        if (key?.endsWith(INFO_SUFFIX) === true) yield key.slice(TUS_OBJECT_PREFIX.length, -INFO_SUFFIX.length);
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * S3Store rewrites the upload's `.info` with its new length but leaves the cached copy (in
   * Redis, shared) without one: every later read of it, and so the upload's end, went wrong.
   */
  override async declareUploadLength(id: string, length: number): Promise<void> {
    await super.declareUploadLength(id, length);
    await this.clearCache(id);
  }

  /** The upload as its metadata says (cached in Redis), without listing its parts for the offset. */
  async info(id: string): Promise<Upload> {
    return (await this.getMetadata(id)).file;
  }

  /** S3Store's removal leaves the incomplete part (the bytes of an upload under 5 MiB): it goes too. */
  override async remove(id: string): Promise<void> {
    await super.remove(id);
    await this.client.deleteObjects({ Bucket: this.bucket, Delete: { Objects: [{ Key: id + INCOMPLETE_PART_SUFFIX }] } });
  }
}
