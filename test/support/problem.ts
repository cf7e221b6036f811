import assert from 'node:assert/strict';
import { request } from 'node:http';

/** An HTTP answer, read whole: from fetch, or from {@link rawRequest}. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export async function answerOf(response: Response): Promise<Answer> {
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

/**
 * A request with headers fetch will not send as given (`Host`, `Origin`), over a fresh
 * connection. For loopback servers only: tests send nothing anywhere else.
 */
export function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const target = new URL(url);
  assert.ok(['127.0.0.1', '[::1]', 'localhost'].includes(target.hostname), `rawRequest is for loopback servers, not ${target.hostname}`);
  return new Promise((resolve, reject) => {
    const sent = request(target, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(parts).toString('utf8') }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(options.body);
  });
}

/** The answer must be an RFC 9457 problem of `status` and `code`; answers its body. */
export function assertProblem(answer: Answer, status: number, code: string): { code: string; status: number; detail: string } {
  assert.equal(answer.status, status, answer.body);
  assert.match(answer.contentType, /^application\/problem\+json/);
  const body = JSON.parse(answer.body) as { code: string; status: number; detail: string; type?: unknown; title?: unknown };
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(typeof body.type, 'string');
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  return body;
}
