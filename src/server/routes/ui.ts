import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ReamError } from '../../errors.ts';
import { PUBLIC } from '../auth/access.ts';

/**
 * The dashboard's files, in the package's top-level `ui/` folder: three levels up from both
 * src/server/routes and dist/server/routes, so it is found from source and when installed.
 */
const UI_DIR = new URL('../../../ui/', import.meta.url);
export const UI_PATH = '/ui/';
/** The tus client's browser build, served from the installed tus-js-client package. */
export const TUS_CLIENT_PATH = '/ui/vendor/tus.min.js';

/** The only files served: a fixed list, so no request can name anything else. */
const UI_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/** The page talks only to its own origin and runs only its own files. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function send(reply: FastifyReply, body: Buffer, type: string): FastifyReply {
  return reply
    .type(type)
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .send(body);
}

/** Sends one of {@link UI_FILES}; any other name is `not_found`. */
async function sendUiFile(reply: FastifyReply, name: string): Promise<FastifyReply> {
  const type = Object.hasOwn(UI_FILES, name) ? UI_FILES[name] : undefined;
  if (type === undefined) throw ReamError.nonRetryable('not_found', `no dashboard file ${name}`);
  let body: Buffer;
  try {
    body = await readFile(new URL(name, UI_DIR));
  } catch (error) {
    throw new ReamError('internal', `the dashboard file ${name} is missing from this installation`, { cause: error });
  }
  return send(reply, body, type);
}

async function readTusClient(): Promise<Buffer> {
  try {
    return await readFile(createRequire(import.meta.url).resolve('tus-js-client/dist/tus.min.js'));
  } catch (error) {
    throw new ReamError('internal', 'tus-js-client is not installed: the dashboard needs it to upload', { cause: error });
  }
}

/**
 * The web dashboard: `/` and `/ui` redirect to `/ui/`, which serves `index.html`; `/ui/<name>`
 * serves the other files of {@link UI_FILES}. Hidden from the OpenAPI document (not API).
 */
export function uiRoutes(app: FastifyInstance): void {
  // Public: the page loads before the user has entered an API key.
  const hide = { ...PUBLIC, schema: { hide: true } };
  app.get('/', hide, (_request, reply) => reply.redirect(UI_PATH));
  app.get('/ui', hide, (_request, reply) => reply.redirect(UI_PATH));
  app.get(UI_PATH, hide, (_request, reply) => sendUiFile(reply, 'index.html'));
  app.get<{ Params: { file: string } }>(`${UI_PATH}:file`, hide, (request, reply) => sendUiFile(reply, request.params.file));
  // Browsers ask for /favicon.ico whatever the page says; an SVG answers it (every current browser takes one).
  app.get('/favicon.ico', hide, (_request, reply) => sendUiFile(reply, 'favicon.svg'));
  app.get(TUS_CLIENT_PATH, hide, async (_request, reply) => send(reply, await readTusClient(), 'text/javascript; charset=utf-8'));
}
