import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { Wakeups, type WorkSignal } from './wakeups.ts';

/** First wait before listening again after the listener's connection broke, in ms; doubles up to the cap. */
const RELISTEN_MS = 500;
const RELISTEN_MAX_MS = 30_000;

/**
 * The channel of the queue in `schema`: queues in other schemas of the database stay apart.
 * Hashed, so any schema name fits PostgreSQL's 63-byte identifier limit and needs no quoting.
 */
export function queueChannel(schema: string): string {
  return `ream_queue_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
}

/**
 * Wake-ups across processes with LISTEN/NOTIFY: a notify here wakes this process's waiters at
 * once and every other process's through the channel (payload: sender and due time). One
 * connection of the pool is held for listening. Notifications are a shortcut, not the
 * contract: one lost while the listener reconnects only means a waiter sleeps until its own
 * `maxWaitMs`, as before.
 */
export class PostgresWakeups implements WorkSignal {
  readonly #local = new Wakeups();
  readonly #pool: pg.Pool;
  readonly #channel: string;
  /** Tells this process's own notifications apart: its waiters were woken already. */
  readonly #origin = randomUUID();
  #listener: pg.PoolClient | undefined;
  #relistenMs = RELISTEN_MS;
  #relistenTimer: NodeJS.Timeout | undefined;
  /** The earliest due time not yet sent: a burst of enqueues sends one notification. */
  #unsent = Infinity;
  #sending = false;
  #closed = false;

  private constructor(pool: pg.Pool, channel: string) {
    this.#pool = pool;
    this.#channel = channel;
  }

  /** Starts listening on `channel`; a failure here is the caller's (the database is unreachable). */
  static async listen(pool: pg.Pool, channel: string): Promise<PostgresWakeups> {
    const wakeups = new PostgresWakeups(pool, channel);
    await wakeups.#listen();
    return wakeups;
  }

  notify(): void {
    this.#local.notify();
    this.#send(Date.now());
  }

  notifyAt(at: number, now = Date.now()): void {
    this.#local.notifyAt(at, now);
    this.#send(at);
  }

  wait(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return this.#local.wait(maxWaitMs, signal);
  }

  /** Stops listening and gives the connection back (closed: its LISTEN must not outlive us). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#relistenTimer);
    this.#local.close();
    this.#listener?.release(true);
    this.#listener = undefined;
  }

  #send(at: number): void {
    if (this.#closed) return;
    this.#unsent = Math.min(this.#unsent, at);
    if (this.#sending) return;
    this.#sending = true;
    setImmediate(() => {
      const due = this.#unsent;
      this.#unsent = Infinity;
      this.#sending = false;
      if (this.#closed) return;
      // A failed send is a late wake-up elsewhere, never lost work: waiters poll on their own.
      this.#pool.query('select pg_notify($1, $2)', [this.#channel, `${this.#origin} ${due}`]).catch(() => undefined);
    });
  }

  async #listen(): Promise<void> {
    const client = await this.#pool.connect();
    client.on('notification', (message) => {
      const [origin, due] = (message.payload ?? '').split(' ');
      if (message.channel !== this.#channel || origin === this.#origin) return;
      const at = Number(due);
      if (Number.isFinite(at)) this.#local.notifyAt(at);
    });
    // A checked-out client's errors are ours to handle (unhandled, they end the process).
    client.on('error', () => this.#broken(client));
    try {
      await client.query(`listen ${this.#channel}`);
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (this.#closed) {
      client.release(true);
      return;
    }
    this.#listener = client;
    this.#relistenMs = RELISTEN_MS;
  }

  #broken(client: pg.PoolClient): void {
    if (this.#listener !== client) return;
    this.#listener = undefined;
    client.release(true);
    this.#relistenLater();
  }

  #relistenLater(): void {
    if (this.#closed) return;
    this.#relistenTimer = setTimeout(() => {
      this.#listen().then(
        // Work may have come while nobody listened: let waiters look.
        () => this.#local.notify(),
        () => {
          this.#relistenMs = Math.min(this.#relistenMs * 2, RELISTEN_MAX_MS);
          this.#relistenLater();
        },
      );
    }, this.#relistenMs);
    this.#relistenTimer.unref();
  }
}
