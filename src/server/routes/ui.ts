import { readdir, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ReamError } from '../../errors.ts';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { PUBLIC } from '../auth/access.ts';
import { reportFrameRoute } from './report-frame.ts';

/** The console's build (Vite, from ui/src): in the package's top-level `ui/dist/`. */
const DIST_DIR = new URL('ui/dist/', PACKAGE_ROOT);
const ASSETS_DIR = new URL('assets/', DIST_DIR);
export const CONSOLE_PATH = '/';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * The console runs only its own files and talks only to its own origin (fetch, SSE, and
 * WebSocket, which CSP level 3 counts as 'self'); nothing inline, nothing from elsewhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  // Only the console's own report frame (/report-frame), which gives a report its own policy.
  "frame-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Hashed names change with their content: a year-long cache never serves a stale file. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

function send(reply: FastifyReply, body: Buffer, type: string, cache: string): FastifyReply {
  return reply
    .type(type)
    .header('cache-control', cache)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .send(body);
}

function notBuilt(error: unknown): ReamError {
  return new ReamError('internal', 'the console is not built in this installation: run `npm run build:ui`', { cause: error });
}

async function readDist(url: URL): Promise<Buffer> {
  try {
    return await readFile(url);
  } catch (error) {
    throw notBuilt(error);
  }
}

/**
 * The files under assets/, listed once: only these names are served, so no request can name
 * anything else (`..`, encoded slashes and unknown names are all `not_found`).
 */
let assets: Promise<ReadonlySet<string>> | undefined;
function listAssets(): Promise<ReadonlySet<string>> {
  assets ??= readdir(ASSETS_DIR).then(
    (names) => new Set(names.filter((name) => Object.hasOwn(TYPES, extname(name)))),
    (error: unknown) => {
      assets = undefined; // built later (npm run build:ui while serving): look again next time
      throw notBuilt(error);
    },
  );
  return assets;
}

/**
 * The console: `/` serves its index.html (never cached, so a new build is picked up at once),
 * `/assets/<hashed name>` its scripts and styles (cached for a year). `/ui` and `/ui/`, where the
 * first dashboard lived, redirect to `/`. Hidden from the OpenAPI document (not API).
 */
export function uiRoutes(app: FastifyInstance): void {
  // Public: the page loads before the user has entered an API key.
  const hide = { ...PUBLIC, schema: { hide: true } };
  app.get(CONSOLE_PATH, hide, async (_request, reply) => send(reply, await readDist(new URL('index.html', DIST_DIR)), 'text/html; charset=utf-8', 'no-cache'));
  reportFrameRoute(app);
  // Relative: behind a proxy's prefix (/ream/ui) they stay under it.
  app.get('/ui', hide, (_request, reply) => reply.redirect('./'));
  app.get('/ui/', hide, (_request, reply) => reply.redirect('../'));
  app.get<{ Params: { file: string } }>('/assets/:file', hide, async (request, reply) => {
    const { file } = request.params;
    if (!(await listAssets()).has(file)) throw ReamError.nonRetryable('not_found', `no console file ${file}`);
    return send(reply, await readDist(new URL(file, ASSETS_DIR)), TYPES[extname(file)] ?? 'application/octet-stream', IMMUTABLE);
  });
  // Browsers ask for /favicon.ico whatever the page says; an SVG answers it (every current browser takes one).
  for (const path of ['/favicon.svg', '/favicon.ico']) {
    app.get(path, hide, async (_request, reply) => send(reply, await readDist(new URL('favicon.svg', DIST_DIR)), 'image/svg+xml', 'public, max-age=86400'));
  }
}
