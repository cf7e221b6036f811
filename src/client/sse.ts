/**
 * A small Server-Sent Events parser (the WHATWG "event stream interpretation" rules):
 * `id:`, `event:`, `data:` (several lines join with `\n`), `retry:`, `:` comments, and lines
 * ending in LF, CR or CRLF — also when a chunk boundary falls between the CR and the LF.
 */

export interface SseMessage {
  /** `event:` field; `message` when absent. */
  event: string;
  data: string;
  /** The last event id seen so far on this stream (it carries over to later messages), or `''`. */
  id: string;
}

export class SseParser {
  private buffer = '';
  private sawCr = false;
  private started = false;
  private data: string[] = [];
  private event = '';
  private lastId = '';
  /** The last valid `retry:` value in ms, if any. */
  retryMs: number | undefined;

  /** Feeds decoded text; answers the messages it completed. */
  push(text: string): SseMessage[] {
    let input = text;
    if (input.length === 0) return [];
    if (!this.started && input.length > 0) {
      this.started = true;
      if (input.charCodeAt(0) === 0xfeff) input = input.slice(1);
    }
    // A CR ended the previous chunk: an LF that starts this one belongs to the same line break.
    if (this.sawCr && input.startsWith('\n')) input = input.slice(1);
    this.sawCr = false;
    const messages: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer + input.slice(start, i);
      this.buffer = '';
      if (c === 13) {
        if (i + 1 < input.length) {
          if (input.charCodeAt(i + 1) === 10) i++;
        } else this.sawCr = true;
      }
      start = i + 1;
      const message = this.line(line);
      if (message) messages.push(message);
    }
    this.buffer += input.slice(start);
    return messages;
  }

  /** The stream ended: an unterminated message is dropped, as the spec says. */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.event = '';
    this.sawCr = false;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') {
      if (!value.includes('\0')) this.lastId = value;
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) this.retryMs = Number(value);
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = '';
    if (data.length === 0) return undefined;
    return { event: event === '' ? 'message' : event, data: data.join('\n'), id: this.lastId };
  }
}

/** Parses a byte stream (e.g. a fetch `Response.body`) into SSE messages. */
export async function* parseSse(body: AsyncIterable<Uint8Array>, parser: SseParser = new SseParser()): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  for await (const chunk of body) yield* parser.push(decoder.decode(chunk, { stream: true }));
  yield* parser.push(decoder.decode());
  parser.end();
}
