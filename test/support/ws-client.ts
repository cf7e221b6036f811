import assert from 'node:assert/strict';
import type { ReamEvent } from '../../src/events/types.ts';
import type { JobView } from '../../src/server/views.ts';

export type ServerMessage =
  | { type: 'connected'; protocol: string; tenantId: string; heartbeatMs: number }
  | { type: 'event'; event: ReamEvent }
  | { type: 'job_status'; job: JobView; requestId?: string }
  | { type: 'notification'; event: ReamEvent }
  | { type: 'error'; code: string; message: string; requestId?: string }
  // The document-service dialect (snake_case), see src/server/routes/ws-messages.ts.
  | { type: 'job_progress'; job_id: string; event: string; seq: number; progress: JobView['progress'] }
  | { type: 'job_status_response'; job_id: string; status: string; job: JobView; request_id?: string };

const TERMINAL = new Set(['job.completed', 'job.failed', 'job.cancelled']);

/**
 * A WebSocket client (Node's global WebSocket) that queues what the server sends. `open` waits
 * for the server's `connected` greeting and keeps it apart from the other messages.
 */
export class WsClient {
  readonly socket: WebSocket;
  readonly #inbox: ServerMessage[] = [];
  #waiter: (() => void) | undefined;
  greeting: Extract<ServerMessage, { type: 'connected' }> | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener('message', (message) => {
      this.#inbox.push(JSON.parse(String(message.data)) as ServerMessage);
      this.#waiter?.();
    });
  }

  static async open(url: string, protocols?: string[]): Promise<WsClient> {
    const socket = new WebSocket(url, protocols);
    const client = new WsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error('websocket did not open')), { once: true });
    });
    const greeting = await client.next();
    assert.equal(greeting.type, 'connected', 'the server greets first');
    client.greeting = greeting;
    return client;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first queued (or next) message that matches; the others stay queued. */
  async next(match: (m: ServerMessage) => boolean = () => true, timeoutMs = 120_000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#inbox.findIndex(match);
      if (index >= 0) return this.#inbox.splice(index, 1)[0] as ServerMessage;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a websocket message');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  /** Events of `jobId` up to its terminal one. */
  async eventsToEnd(jobId: string): Promise<ReamEvent[]> {
    const events: ReamEvent[] = [];
    for (;;) {
      const message = await this.next((m) => m.type === 'event' && m.event.jobId === jobId);
      assert.equal(message.type, 'event');
      events.push(message.event);
      if (TERMINAL.has(message.event.type)) return events;
    }
  }

  close(): void {
    this.socket.close();
  }
}
