import type { Redis } from 'ioredis';

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
