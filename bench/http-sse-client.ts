// One SSE client of the fan-out bench: a plain node:http GET on a job's /events that parses the
// stream, checks that `seq` runs 1, 2, 3… with no gap, repeat or reorder (and that each frame's
// `id:` is its `seq`), and records the delivery lag of every event produced while the whole
// audience was connected.
import { get, type ClientRequest } from 'node:http';
import { isTerminalEventType } from '../src/events/types.ts';

/** What every client of one run shares. */
export interface Audience {
  /** Epoch ms; events the server stamped at or after this count as live: their lag is sampled. */
  liveFrom: number;
  /** Client receive time − server event `at`, in ms, one per live event per client. */
  lags: number[];
  /** Server `at` of the first chunk event any client saw. */
  firstChunkAt: number;
}

export interface SseClient {
  connectedAt?: number;
  /** When the first event (the replay of what the job had stored so far) was parsed. */
  firstEventAt?: number;
  events: number;
  lastSeq: number;
  /** Frames whose seq was not the previous one + 1, or whose `id:` was not their seq. */
  seqBreaks: number;
  terminalAt?: number;
  /** The terminal event's `at`, stamped by the server. */
  terminalEventAt?: number;
  terminalSeq?: number;
  terminalType?: string;
  error?: string;
  /** The stream ended without the terminal event. */
  closedEarly: boolean;
}

interface WireEvent {
  seq: number;
  type: string;
  at: number;
}

export interface OpenedClient {
  client: SseClient;
  /** Resolves at the first event, or when the client ends without one. */
  ready: Promise<void>;
  /** Resolves when the stream has ended, however it ended. */
  done: Promise<void>;
}

function field(block: string, name: string): string | undefined {
  for (const line of block.split('\n')) if (line.startsWith(`${name}: `)) return line.slice(name.length + 2);
  return undefined;
}

export function openSse(url: string, deadline: AbortSignal, audience: Audience): OpenedClient {
  const client: SseClient = { events: 0, lastSeq: 0, seqBreaks: 0, closedEarly: false };
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const receive = (id: string | undefined, data: string): void => {
    const now = Date.now();
    const event = JSON.parse(data) as WireEvent;
    client.events++;
    if (event.seq !== client.lastSeq + 1 || Number(id) !== event.seq) client.seqBreaks++;
    client.lastSeq = event.seq;
    if (client.firstEventAt === undefined) {
      client.firstEventAt = now;
      markReady();
    }
    if (event.at >= audience.liveFrom) audience.lags.push(now - event.at);
    if (event.type === 'chunk.completed' && event.at < audience.firstChunkAt) audience.firstChunkAt = event.at;
    if (isTerminalEventType(event.type) && client.terminalAt === undefined) {
      client.terminalAt = now;
      client.terminalEventAt = event.at;
      client.terminalSeq = event.seq;
      client.terminalType = event.type;
    }
  };

  const done = new Promise<void>((resolve) => {
    let request: ClientRequest | undefined = undefined;
    const onAbort = (): void => {
      client.error ??= 'no terminal event before the bench deadline';
      request?.destroy();
    };
    const finish = (): void => {
      deadline.removeEventListener('abort', onAbort);
      markReady();
      resolve();
    };
    deadline.addEventListener('abort', onAbort, { once: true });
    request = get(url, { headers: { accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        client.error = `HTTP ${response.statusCode ?? '?'}`;
        response.resume();
        response.on('end', finish);
        return;
      }
      client.connectedAt = Date.now();
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (text: string) => {
        buffer += text;
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
          const data = field(block, 'data');
          // Comment blocks (": heartbeat") carry no data.
          if (data !== undefined) receive(field(block, 'id'), data);
        }
      });
      response.on('error', (error) => (client.error ??= error.message));
      response.on('close', () => {
        if (client.terminalAt === undefined) client.closedEarly = true;
        finish();
      });
    });
    request.on('error', (error) => {
      client.error ??= error.message;
      finish();
    });
  });
  return { client, ready, done };
}
