import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { heldMs, spacingMs, type RateLimits, type RateWindow } from './rate-window.ts';

/**
 * The sliding window in one Lua script, so every worker's check-and-take is atomic. The time is
 * Redis's own (`TIME`): workers with skewed clocks still share one window. Under a
 * requests-per-minute limit a call also waits `spacing` ms after the last scheduled start, kept at
 * `<key>:slot` (see `spacingMs` and `scheduledStart`). Calls are members of a
 * sorted set scored by their start in ms, named `<id>|<tokens>` so the tokens can be summed.
 * Returns 0 when the call may start (and records it), else the ms to wait.
 */
const ACQUIRE = `
local key, pauseKey, slotKey, turnKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local windowMs, rpm, tpm, tokens, id, spacing = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', pauseKey)
if paused > 0 then return paused end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - windowMs)
local calls = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
local count = #calls / 2
if rpm > 0 and count >= rpm then
  return math.max(1, tonumber(calls[2]) + windowMs - now)
end
local slot = now
local lastText = false
if spacing > 0 then
  lastText = redis.call('GET', slotKey)
  local last = lastText and tonumber(lastText)
  if last then
    local due = last + spacing
    if now < due then return math.max(1, math.ceil(due - now)) end
    if now - due < spacing / 2 then slot = due end
  end
end
if tpm > 0 and count > 0 then
  local used = 0
  for i = 1, #calls, 2 do used = used + tonumber(string.match(calls[i], '|(%d+)$')) end
  if used + tokens > tpm then
    for i = 1, #calls, 2 do
      used = used - tonumber(string.match(calls[i], '|(%d+)$'))
      if used + tokens <= tpm or used == 0 then return math.max(1, tonumber(calls[i + 1]) + windowMs - now) end
    end
  end
end
redis.call('ZADD', key, now, id .. '|' .. tokens)
redis.call('PEXPIRE', key, windowMs)
if spacing > 0 then
  redis.call('SET', slotKey, string.format('%.3f', slot), 'PX', math.ceil(windowMs))
  redis.call('SET', turnKey, id .. '|' .. (lastText or ''), 'PX', math.ceil(windowMs))
end
return 0
`;

/**
 * A granted call not made ({@link RateWindow.giveBack}): its member leaves the window, and when it
 * holds the last scheduled start (`<key>:turn` names it, with the start before it), that start
 * goes back to the one before, so the next call takes its place instead of a spacing after it.
 */
const GIVE_BACK = `
local key, slotKey, turnKey = KEYS[1], KEYS[2], KEYS[3]
redis.call('ZREM', key, ARGV[1])
local turn = redis.call('GET', turnKey)
if turn then
  local sep = string.find(turn, '|', 1, true)
  if sep and string.sub(turn, 1, sep - 1) == ARGV[2] then
    local before = string.sub(turn, sep + 1)
    local ttl = redis.call('PTTL', slotKey)
    if before == '' or ttl <= 0 then redis.call('DEL', slotKey) else redis.call('SET', slotKey, before, 'PX', ttl) end
    redis.call('DEL', turnKey)
  end
end
return 0
`;

/** Renames a call's member `<id>|<charged>` to `<id>|<used>`, keeping its start; a call gone from the window is left gone. */
const CORRECT = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[1], score, ARGV[2])
end
return 0
`;

const tokenCount = (tokens: number): number => Math.max(0, Math.ceil(tokens));

export interface RedisRateWindowOptions extends RateLimits {
  url: string;
  /** Key prefix of the deployment (default `ream`); the window is `<prefix>:llm:window:<name>`. */
  prefix?: string;
  /** One window per provider account: name it after the endpoint and model. */
  name: string;
}

/**
 * A rate window shared through Redis by every worker of a deployment: 8 workers under a limit of
 * 60 calls per minute make 60 calls per minute between them, not 480. A Retry-After one worker
 * gets pauses all of them.
 */
export class RedisRateWindow implements RateWindow {
  /** ioredis loads with the first window: an embedded `ream run` never makes one and never loads it. */
  readonly #redis: Promise<Redis>;
  readonly #key: string;
  readonly #pauseKey: string;
  readonly #slotKey: string;
  readonly #turnKey: string;
  readonly #limits: RateLimits & { windowMs: number };
  readonly #spacingMs: number;

  constructor(options: RedisRateWindowOptions) {
    this.#redis = import('ioredis').then(({ Redis }) => {
      const redis = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: 3 });
      redis.on('error', () => undefined); // ioredis reconnects by itself; calls fail meanwhile
      return redis;
    });
    const base = `${options.prefix ?? 'ream'}:llm:window:${options.name}`;
    this.#key = base;
    this.#pauseKey = `${base}:pause`;
    this.#slotKey = `${base}:slot`;
    this.#turnKey = `${base}:turn`;
    this.#limits = { ...options, windowMs: heldMs(options) };
    this.#spacingMs = spacingMs(options);
  }

  async tryAcquire(tokens: number, id: string = randomUUID()): Promise<number> {
    const { windowMs, requestsPerMinute, tokensPerMinute } = this.#limits;
    const wait = await (await this.#redis).eval(
      ACQUIRE, 4, this.#key, this.#pauseKey, this.#slotKey, this.#turnKey,
      windowMs, requestsPerMinute ?? 0, tokensPerMinute ?? 0, tokenCount(tokens), id, this.#spacingMs,
    );
    return Number(wait);
  }

  async correct(id: string, charged: number, used: number): Promise<void> {
    await (await this.#redis).eval(CORRECT, 1, this.#key, `${id}|${tokenCount(charged)}`, `${id}|${tokenCount(used)}`);
  }

  async giveBack(id: string, charged: number): Promise<void> {
    await (await this.#redis).eval(GIVE_BACK, 3, this.#key, this.#slotKey, this.#turnKey, `${id}|${tokenCount(charged)}`, id);
  }

  async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    // Only ever lengthened: a shorter Retry-After must not cut another worker's longer one.
    const redis = await this.#redis;
    const current = await redis.pttl(this.#pauseKey);
    if (current < ms) await redis.set(this.#pauseKey, '1', 'PX', Math.ceil(ms));
  }

  /** The starts recorded in the window now, in ms (Redis time): for tests and benchmarks. */
  async starts(): Promise<number[]> {
    const entries = await (await this.#redis).zrange(this.#key, '0', '-1', 'WITHSCORES');
    return entries.filter((_, i) => i % 2 === 1).map(Number);
  }

  async close(): Promise<void> {
    await (await this.#redis).quit().catch(() => undefined);
  }
}
