import { Redis } from 'ioredis';
import { ReamError } from '../errors.ts';
import { connectAll, REDIS_COMMAND_TIMEOUT_MS } from '../redis-connect.ts';
import type { EventBus, EventFilter, EventListener } from './port.ts';
import type { ReamEvent } from './types.ts';
import { deliver, warnListenerError } from './deliver.ts';

export interface RedisEventBusOptions {
  /** `redis://[:password@]host:port[/db]`. */
  url: string;
  /** Channel prefix; processes of one deployment share it. Default 'ream'. */
  prefix?: string;
  /** Called when a listener throws; delivery to the other listeners goes on. Default: a process warning. */
  onListenerError?: (error: unknown, event: ReamEvent) => void;
}

/** The key of listeners without a filter, fed by the pattern of every tenant channel (no channel is named so). */
const EVERYTHING = '\0every tenant';

interface Subscription {
  filter: EventFilter;
  listener: EventListener;
}

/**
 * Live events across processes over Redis pub/sub. Each event is published twice, on its job's
 * channel `<prefix>:events:job:<jobId>` and its tenant's `<prefix>:events:tenant:<tenantId>`; a
 * process subscribes only to the channels its listeners need (a job channel for a job filter, a
 * tenant channel for a tenant filter, the tenant pattern for "everything"), so a server with
 * thousands of SSE clients receives the events of the jobs they watch, not every event of the
 * deployment. Each event reaches a listener through exactly one channel, so nothing is delivered
 * twice.
 *
 * Best effort, as the port says: an event published while this process's subscriber connection
 * is down is not delivered here (ioredis reconnects and subscribes again); subscribers that
 * need every event replay from the store by `seq`.
 */
export class RedisEventBus implements EventBus {
  readonly name = 'redis';
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #where: string;
  readonly #onListenerError: (error: unknown, event: ReamEvent) => void;
  /** Subscriptions by the channel that feeds them (or EVERYTHING). */
  readonly #byChannel = new Map<string, Set<Subscription>>();
  /** SUBSCRIBE/UNSUBSCRIBE commands not yet acknowledged: `publish` and `ready` wait for them. */
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: RedisEventBusOptions) {
    this.#prefix = options.prefix ?? 'ream';
    this.#where = `Redis at ${hostOf(options.url)}`;
    this.#onListenerError = options.onListenerError ?? warnListenerError;
    this.#publisher = new Redis(options.url, { lazyConnect: true });
    this.#subscriber = new Redis(options.url, { lazyConnect: true });
    for (const connection of [this.#publisher, this.#subscriber]) {
      // Without a listener an 'error' event would crash the process; ioredis reconnects by itself.
      connection.on('error', (error: unknown) => process.emitWarning(`ream: event bus connection to ${this.#where}: ${String(error)}`));
    }
    this.#subscriber.on('message', (channel: string, message: string) => this.#deliver(channel, message));
    this.#subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => this.#deliver(EVERYTHING, message, channel));
  }

  /** A bus whose connections are up, or `unavailable` saying which Redis did not answer. */
  static async open(options: RedisEventBusOptions): Promise<RedisEventBus> {
    const bus = new RedisEventBus(options);
    try {
      await connectAll([bus.#publisher, bus.#subscriber]);
    } catch (error) {
      await bus.close();
      throw ReamError.retryable('unavailable', `the event bus could not connect to ${bus.#where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return bus;
  }

  async publish(event: ReamEvent): Promise<void> {
    if (this.#closed) throw ReamError.nonRetryable('internal', 'the event bus is closed');
    const message = JSON.stringify(event);
    try {
      // Within REDIS_COMMAND_TIMEOUT_MS: a best-effort event must not hold the request that made
      // it while Redis does not answer, nor wait for a subscription Redis leaves unanswered.
      await within(REDIS_COMMAND_TIMEOUT_MS, async () => {
        // A listener subscribed in this process before this call hears this event.
        await this.ready();
        await this.#publisher.multi().publish(this.#jobChannel(event.jobId), message).publish(this.#tenantChannel(event.tenantId), message).exec();
      });
    } catch (error) {
      throw ReamError.retryable('io_error', `could not publish ${event.type} of job ${event.jobId} to ${this.#where}`, { cause: error });
    }
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    const subscription: Subscription = { filter: { ...filter }, listener };
    const channel = this.#channelFor(subscription.filter);
    let subscriptions = this.#byChannel.get(channel);
    if (!subscriptions) {
      subscriptions = new Set();
      this.#byChannel.set(channel, subscriptions);
      this.#track(channel === EVERYTHING ? this.#subscriber.psubscribe(this.#tenantChannel('*')) : this.#subscriber.subscribe(channel));
    }
    subscriptions.add(subscription);
    return () => {
      const current = this.#byChannel.get(channel);
      if (!current?.delete(subscription) || current.size > 0 || this.#closed) return;
      this.#byChannel.delete(channel);
      this.#track(channel === EVERYTHING ? this.#subscriber.punsubscribe(this.#tenantChannel('*')) : this.#subscriber.unsubscribe(channel));
    };
  }

  /** Resolves when every subscription made so far is in effect in Redis (events published from now on reach it). */
  async ready(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** Drops every subscription and ends both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#byChannel.clear();
    await Promise.allSettled(this.#pending);
    await Promise.allSettled([this.#publisher, this.#subscriber].map(endConnection));
  }

  #track(command: Promise<unknown>): void {
    const settled = command.then(
      () => undefined,
      (error: unknown) => {
        if (!this.#closed) process.emitWarning(`ream: event bus (un)subscribe at ${this.#where} failed: ${String(error)}`);
      },
    );
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
  }

  /** A job filter reads the job's channel, a tenant filter the tenant's, no filter every tenant's (one copy of each event). */
  #channelFor(filter: EventFilter): string {
    if (filter.jobId !== undefined) return this.#jobChannel(filter.jobId);
    if (filter.tenantId !== undefined) return this.#tenantChannel(filter.tenantId);
    return EVERYTHING;
  }

  #jobChannel(jobId: string): string {
    return `${this.#prefix}:events:job:${jobId}`;
  }

  #tenantChannel(tenantId: string): string {
    return `${this.#prefix}:events:tenant:${tenantId}`;
  }

  #deliver(key: string, message: string, channel = key): void {
    const subscriptions = this.#byChannel.get(key);
    if (!subscriptions) return;
    let event: ReamEvent;
    try {
      event = JSON.parse(message) as ReamEvent;
    } catch (error) {
      process.emitWarning(`ream: ignored a malformed event on ${channel}: ${String(error)}`);
      return;
    }
    // A snapshot: listeners that (un)subscribe while being called do not disturb this delivery.
    for (const subscription of [...subscriptions]) {
      if (!subscriptions.has(subscription)) continue;
      const { jobId, tenantId } = subscription.filter;
      if ((jobId !== undefined && jobId !== event.jobId) || (tenantId !== undefined && tenantId !== event.tenantId)) continue;
      // "A listener that throws does not stop delivery to the others."
      deliver(subscription.listener, event, this.#onListenerError);
    }
  }
}

/** QUIT (replies flushed) when connected; otherwise stop reconnecting. */
export async function endConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') await connection.quit();
  else connection.disconnect();
}

/** `host:port` of a Redis URL: enough to say which server, never its password. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(an unparsable URL)';
  }
}

/** `run()`, or `Command timed out` (what ioredis says of a command left unanswered) after `ms`. */
async function within(ms: number, run: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Command timed out')), ms);
  });
  try {
    await Promise.race([run(), late]);
  } finally {
    clearTimeout(timer);
  }
}
