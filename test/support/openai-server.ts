import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A chat request as the fake server received it. */
export interface ReceivedRequest {
  body: {
    model: string;
    messages: Array<{ role: string; content: string }>;
    stream?: boolean;
    response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
    temperature?: number;
    max_tokens?: number;
  };
  headers: IncomingMessage['headers'];
}

/** What the server does with one request. */
export type Reply =
  | {
    content: string; promptTokens?: number; completionTokens?: number; delayMs?: number; finishReason?: string;
    /** Sends no `usage` (some local servers). */
    noUsage?: boolean;
    /** Streamed: sends the first delta, then nothing more and never ends. */
    stall?: boolean;
  }
  | { refusal: string }
  | { status: number; retryAfter?: string; retryAfterMs?: string; message?: string; code?: string; delayMs?: number }
  /** Accepts the request and never answers (a client timeout must end it). */
  | { hang: true }
  /** Closes the socket without an answer. */
  | { drop: true };

export type Script = (request: ReceivedRequest, index: number) => Reply | Promise<Reply>;

export interface FakeOpenAi {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseURL: string;
  readonly requests: ReceivedRequest[];
  /** Replaces the script (for the next requests). */
  script(next: Script): void;
  close(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A scriptable server that speaks the OpenAI chat-completions wire protocol on 127.0.0.1 (`port`,
 * default any free one): JSON answers and, when the request asks for `stream`, server-sent events with a usage
 * chunk last. Every request is recorded. `script` decides each answer: content, latency, an
 * error status with Retry-After, a refusal, a hang, a dropped connection.
 */
export async function startFakeOpenAi(initial: Script, port = 0): Promise<FakeOpenAi> {
  let current = initial;
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const received: ReceivedRequest = { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedRequest['body'], headers: req.headers };
    const index = requests.push(received) - 1;
    const reply = await current(received, index);
    if ('hang' in reply) return;
    if ('drop' in reply) {
      req.socket.destroy();
      return;
    }
    if ('delayMs' in reply && reply.delayMs) await sleep(reply.delayMs);
    if ('status' in reply) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (reply.retryAfter !== undefined) headers['retry-after'] = reply.retryAfter;
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = reply.retryAfterMs;
      res.writeHead(reply.status, headers).end(JSON.stringify({ error: { message: reply.message ?? `status ${reply.status}`, type: 'test', code: reply.code ?? null } }));
      return;
    }
    const content = 'content' in reply ? reply.content : null;
    const refusal = 'refusal' in reply ? reply.refusal : null;
    const usage = {
      prompt_tokens: 'content' in reply ? (reply.promptTokens ?? 100) : 10,
      completion_tokens: 'content' in reply ? (reply.completionTokens ?? 20) : 5,
      total_tokens: 0,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const finish = 'content' in reply ? (reply.finishReason ?? 'stop') : 'stop';
    const base = { id: `chatcmpl-${index}`, created: 0, model: received.body.model };
    if (received.body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (data: unknown): boolean => res.write(`data: ${JSON.stringify(data)}\n\n`);
      const text = content ?? '';
      // Several deltas, so the client must join them.
      for (let i = 0; i < text.length; i += 16) {
        send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text.slice(i, i + 16) }, finish_reason: null }] });
        if ('stall' in reply && reply.stall) return;
      }
      if (refusal !== null) send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { refusal }, finish_reason: null }] });
      send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: finish }] });
      if (!('noUsage' in reply && reply.noUsage)) send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
      res.end('data: [DONE]\n\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal }, finish_reason: finish, logprobs: null }],
      ...('noUsage' in reply && reply.noUsage ? {} : { usage }),
    }));
  }

  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    baseURL: `http://127.0.0.1:${bound}/v1`,
    requests,
    script(next) {
      current = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The page text the request carried (user message), for scripts that answer by content. */
export function userText(request: ReceivedRequest): string {
  return request.body.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
}

/** Page numbers of the markers in a request. */
export function pagesIn(request: ReceivedRequest): number[] {
  return [...userText(request).matchAll(/<<<page (\d+)>>>/g)].map((m) => Number(m[1]));
}
