import { Redis } from 'ioredis';
import { REDIS_COMMAND_TIMEOUT_MS } from '../redis-connect.ts';
import type { Coordination } from './coordination.ts';

/**
 * The token bucket of `TokenBuckets`, atomically in Redis (one hash per subject, Redis's clock,
 * so instances with skewed clocks agree). Returns the wait in ms as a string (Lua numbers
 * returned as integers would lose the fraction).
 */
const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local perMs = capacity / 60000
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / perMs end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 120000)
return tostring(wait)
`;

/** Several server instances: the same, in the deployment's Redis under `<prefix>:`. */
export function redisCoordination(url: string, prefix: string): Coordination {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, commandTimeout: REDIS_COMMAND_TIMEOUT_MS });
  redis.on('error', () => undefined); // commands fail on their own while Redis is away; ioredis reconnects
  redis.defineCommand('reamTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
  const takeToken = (redis as unknown as { reamTakeToken(key: string, capacity: number): Promise<string> }).reamTakeToken.bind(redis);
  return {
    async takeToken(subject, perMinute) {
      return Number(await takeToken(`${prefix}:ratelimit:${perMinute}:${subject}`, perMinute));
    },
    async putOnce(key, value, ttlMs) {
      await redis.set(`${prefix}:once:${key}`, value, 'PX', ttlMs);
    },
    async takeOnce(key) {
      return (await redis.getdel(`${prefix}:once:${key}`)) ?? undefined;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
