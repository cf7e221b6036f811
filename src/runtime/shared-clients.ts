// Clients of a distributed deployment's services for the parts of the HTTP service that talk to
// them directly (tus uploads in the bucket, their locks in Redis). The runtime owns how
// connections to the deployment are made and ended; the server asks it rather than the adapters.
import { Redis } from 'ioredis';
import { ReamError } from '../errors.ts';
import { endConnection } from '../events/redis-event-bus.ts';
import { connectAll, REDIS_COMMAND_TIMEOUT_MS } from '../redis-connect.ts';
import { redactUrl } from '../url.ts';

export { s3ClientConfig, type S3Location } from '../blobs/s3-client.ts';
export { s3Error } from '../blobs/s3-errors.ts';

/** Two connections to Redis (one for commands, one for pub/sub, which blocks a connection) and how to end both. */
export interface RedisPair {
  redis: Redis;
  subscriber: Redis;
  /** Ends both (waiting for replies in flight); never throws. */
  close: () => Promise<void>;
}

/** Opens and connects a {@link RedisPair} to `url`; on failure both are ended and the error thrown. */
export async function openRedisPair(url: string): Promise<RedisPair> {
  const redis = new Redis(url, { lazyConnect: true, commandTimeout: REDIS_COMMAND_TIMEOUT_MS });
  const subscriber = new Redis(url, { lazyConnect: true }); // subscribing only: nothing a caller waits for
  const close = async (): Promise<void> => {
    await Promise.allSettled([redis, subscriber].map(endConnection));
  };
  try {
    await connectAll([redis, subscriber]);
  } catch (error) {
    await close();
    throw new ReamError('unavailable', `cannot connect to Redis at ${redactUrl(url)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { redis, subscriber, close };
}
