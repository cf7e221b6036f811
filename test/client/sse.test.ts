import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSse, SseParser, type SseMessage } from '../../src/client/sse.ts';

const STREAM =
  '\uFEFF: ream events\n\n' +
  'id: 1\nevent: job.queued\ndata: {"seq":1}\n\n' +
  ': heartbeat\r\n\r\n' +
  'id: 2\r\nevent: job.started\r\ndata: first line\r\ndata: second line\r\ndata\r\n\r\n' +
  'data:no space\rdata:  two spaces\r\r' +
  'id: 3\nretry: 250\nevent: ünïcödé\ndata: ✓ done\n\n' +
  'event: ignored\n\n' + // no data: not dispatched
  'id: 4\ndata: unterminated';

const EXPECTED: SseMessage[] = [
  { event: 'job.queued', data: '{"seq":1}', id: '1' },
  { event: 'job.started', data: 'first line\nsecond line\n', id: '2' },
  { event: 'message', data: 'no space\n two spaces', id: '2' },
  { event: 'ünïcödé', data: '✓ done', id: '3' },
];

async function* toStream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}

function parseChunks(chunks: readonly string[]): { messages: SseMessage[]; parser: SseParser } {
  const parser = new SseParser();
  const messages = chunks.flatMap((chunk) => parser.push(chunk));
  parser.end();
  return { messages, parser };
}

test('parses id, event, multi-line data, comments, CR / LF / CRLF, retry; drops an unterminated message', () => {
  const { messages, parser } = parseChunks([STREAM]);
  assert.deepEqual(messages, EXPECTED);
  assert.equal(parser.retryMs, 250);
});

test('any split into two chunks gives the same messages (also between CR and LF)', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(parseChunks([STREAM.slice(0, i), STREAM.slice(i)]).messages, EXPECTED, `split at ${i}`);
  }
});

test('one character at a time, and empty chunks between, give the same messages', () => {
  const chars = [...STREAM].flatMap((c) => [c, '']);
  assert.deepEqual(parseChunks(chars).messages, EXPECTED);
});

test('random chunkings of the bytes, splitting UTF-8 sequences too', async () => {
  const bytes = new TextEncoder().encode(STREAM);
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = 1 + random(12);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    const messages: SseMessage[] = [];
    for await (const message of parseSse(toStream(chunks))) messages.push(message);
    assert.deepEqual(messages, EXPECTED, `round ${round}`);
  }
});
