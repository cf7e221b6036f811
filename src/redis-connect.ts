import type { Redis } from 'ioredis';

/**
 * How long a command to Redis may go unanswered before it fails (ioredis `commandTimeout`), in
 * ms. ioredis otherwise holds a command until Redis answers: a Redis that stops answering (a
 * partition, a stuck host) or is away while the client retries made every request that touched
 * the queue, events or locks hang for as long. Failed this way (`Command timed out`), a request
 * is answered 503 `unavailable`; a worker's claim or heartbeat fails and is tried again. Long
 * enough for a loaded Redis, whose answers take milliseconds; ream sends no blocking command.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 5_000;

/**
 * Connects every connection. On failure it throws why: ioredis rejects `connect()` with only
 * "Connection is closed", and the reason (ECONNREFUSED, a DNS failure, a refused password)
 * comes as an `error` event, which is kept here.
 */
export async function connectAll(connections: readonly Redis[]): Promise<void> {
  let reason: Error | undefined;
  const remember = (error: Error): void => {
    reason ??= error;
  };
  for (const connection of connections) connection.on('error', remember);
  try {
    await Promise.all(connections.map((connection) => connection.connect()));
  } catch (error) {
    throw reason ?? error;
  } finally {
    for (const connection of connections) connection.off('error', remember);
  }
}
