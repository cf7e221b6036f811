import { randomUUID } from 'node:crypto';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { Redis } from 'ioredis';

export interface RedisLockerOptions {
  /** For commands (SET, EVAL, PUBLISH). */
  redis: Redis;
  /** A connection of its own, put in subscriber mode for release requests. */
  subscriber: Redis;
  /** Key and channel prefix shared by the server instances of one deployment. */
  prefix: string;
  /** Give up acquiring a lock after this long, in ms (tus answers 500 `ERR_LOCK_TIMEOUT`). Default 30 s, as @tus/server's MemoryLocker. */
  acquireTimeoutMs?: number;
  /**
   * A held lock expires this long after its last renewal, in ms: the bound on how long a crashed
   * instance blocks an upload. Renewed every third of it while held. Default 30 s.
   */
  ttlMs?: number;
  /** Pause between two attempts to take a held lock, in ms. Default 50. */
  retryMs?: number;
}

/** Deletes the lock only if this holder's token is still in it: an expired holder never frees a successor's lock. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Extends the lock only if this holder still has it. */
const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/**
 * @tus/server's Locker on Redis, for several server instances in front of one upload store. A lock
 * is `SET <prefix>:tus:lock:<id> <token> NX PX ttl`, renewed while held and released by a
 * compare-and-delete, so only its holder frees it. As MemoryLocker does in one process, a request
 * that finds an upload locked asks the holder to let go — here by publishing the id on
 * `<prefix>:tus:lock-release`, which the holding instance answers by calling its `requestRelease`
 * (ending the stale PATCH) — then waits for the lock. The tus protocol expects this: a client
 * resumes after a dropped connection while the old request may still hold the upload (half-open TCP).
 */
export class RedisLocker implements Locker {
  readonly #options: Required<Omit<RedisLockerOptions, 'redis' | 'subscriber' | 'prefix'>>;
  readonly redis: Redis;
  readonly #channel: string;
  readonly #prefix: string;
  /** Release callbacks of the locks this instance holds, by upload id. */
  readonly held = new Map<string, RequestRelease>();
  readonly #subscribed: Promise<unknown>;

  constructor(options: RedisLockerOptions) {
    this.redis = options.redis;
    this.#prefix = options.prefix;
    this.#channel = `${options.prefix}:tus:lock-release`;
    this.#options = { acquireTimeoutMs: options.acquireTimeoutMs ?? 30_000, ttlMs: options.ttlMs ?? 30_000, retryMs: options.retryMs ?? 50 };
    options.subscriber.on('message', (channel: string, id: string) => {
      if (channel !== this.#channel) return;
      const release = this.held.get(id);
      if (release) void Promise.resolve().then(release).catch(() => undefined);
    });
    this.#subscribed = options.subscriber.subscribe(this.#channel);
  }

  /** Resolves once this instance hears release requests. */
  ready(): Promise<void> {
    return this.#subscribed.then(() => undefined);
  }

  newLock(id: string): Lock {
    return new RedisLock(this, id, `${this.#prefix}:tus:lock:${id}`, this.#options);
  }

  /** Asks whichever instance holds `id` to let go. */
  async askRelease(id: string): Promise<void> {
    await this.redis.publish(this.#channel, id);
  }
}

class RedisLock implements Lock {
  readonly #locker: RedisLocker;
  readonly #id: string;
  readonly #key: string;
  readonly #token = randomUUID();
  readonly #options: { acquireTimeoutMs: number; ttlMs: number; retryMs: number };
  #renewal: NodeJS.Timeout | undefined;

  constructor(locker: RedisLocker, id: string, key: string, options: { acquireTimeoutMs: number; ttlMs: number; retryMs: number }) {
    this.#locker = locker;
    this.#id = id;
    this.#key = key;
    this.#options = options;
  }

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const { redis } = this.#locker;
    const deadline = Date.now() + this.#options.acquireTimeoutMs;
    let asked = false;
    while (!signal.aborted && Date.now() < deadline) {
      if ((await redis.set(this.#key, this.#token, 'PX', this.#options.ttlMs, 'NX')) === 'OK') {
        this.#hold(requestRelease);
        return;
      }
      // Ask once per attempt to lock, as MemoryLocker calls the holder's requestRelease.
      if (!asked) await this.#locker.askRelease(this.#id);
      asked = true;
      await new Promise((resolve) => setTimeout(resolve, this.#options.retryMs));
    }
    // @tus/server's own refusal (a plain { status_code, body }), which it answers as such.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw ERRORS.ERR_LOCK_TIMEOUT;
  }

  async unlock(): Promise<void> {
    clearInterval(this.#renewal);
    if (this.#locker.held.get(this.#id) === this.#release) this.#locker.held.delete(this.#id);
    await this.#locker.redis.eval(RELEASE, 1, this.#key, this.#token);
  }

  #release: RequestRelease | undefined;

  #hold(requestRelease: RequestRelease): void {
    this.#release = requestRelease;
    this.#locker.held.set(this.#id, requestRelease);
    this.#renewal = setInterval(() => {
      this.#locker.redis.eval(RENEW, 1, this.#key, this.#token, String(this.#options.ttlMs)).then(
        // Lost (expired while this instance was stalled): another request may hold it now, so stop.
        (renewed) => (renewed === 0 ? requestRelease() : undefined),
        () => undefined, // Redis briefly away: the next renewal tries again before the TTL runs out
      ).catch(() => undefined);
    }, Math.max(10, Math.floor(this.#options.ttlMs / 3)));
    this.#renewal.unref();
  }
}
