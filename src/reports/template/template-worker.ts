// The module a template thread runs (see template-threads.ts): parses each template once (kept
// for the next rows) and renders one row at a time, answering with the HTML or a coded error.
import { parentPort } from 'node:worker_threads';
import { toReamError } from '../../errors.ts';
import { parseTemplate, renderParsed, type ParsedTemplate } from './parse.ts';
import type { RenderReply, RenderRequest } from './template-protocol.ts';

/** Parsed templates kept, by source and options: a job renders one template for all its rows. */
const KEEP = 32;
const parsed = new Map<string, ParsedTemplate>();

function parsedFor(request: RenderRequest): ParsedTemplate {
  const key = JSON.stringify([request.source, request.what, request.options]);
  let template = parsed.get(key);
  if (template) {
    parsed.delete(key); // re-inserted below: the map is kept in order of last use
  } else {
    template = parseTemplate(request.source, request.what, request.options);
    if (parsed.size >= KEEP) parsed.delete(parsed.keys().next().value ?? key);
  }
  parsed.set(key, template);
  return template;
}

// Loaded (Liquid too): from now on a render's time is its own, not this thread's start-up.
parentPort?.postMessage({ ready: true } satisfies RenderReply);

parentPort?.on('message', (request: RenderRequest) => {
  void (async () => {
    let reply: RenderReply;
    try {
      reply = { ok: true, html: await renderParsed(parsedFor(request), request.data) };
    } catch (error) {
      reply = { ok: false, error: toReamError(error).toJSON() };
    }
    parentPort?.postMessage(reply);
  })();
});
