import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { ServerOptions as TusOptions } from '@tus/server';
import type { FastifyInstance } from 'fastify';
import { ReamError } from '../errors.ts';

export interface CorsOptions {
  /**
   * Origins (`scheme://host[:port]`, exactly as browsers send them) whose pages may call the API.
   * Credentials are bearer tokens, never cookies, so no `Access-Control-Allow-Credentials`.
   */
  origins: string[];
}

/** Request headers a browser client sends: the API's own and the tus 1.0 ones. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'Last-Event-ID',
  'Tus-Resumable',
  'Upload-Length',
  'Upload-Offset',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
  'X-HTTP-Method-Override',
];

/** Response headers a browser client must read (others are hidden from scripts by CORS). */
export const CORS_EXPOSED_HEADERS = [
  'Location',
  'Retry-After',
  'Upload-Offset',
  'Upload-Length',
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Max-Size',
  'Tus-Extension',
  'Upload-Expires',
  'Ream-Document-Id',
  'X-Total-Count',
];

const METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'];
/** Browsers cache a preflight answer this long, in seconds (Chromium caps it at 2 h). */
const PREFLIGHT_MAX_AGE_S = 600;
/** Headers copied onto the raw response, for routes that hijack the reply (SSE). */
const MIRRORED_HEADERS = ['access-control-allow-origin', 'access-control-expose-headers', 'vary'];

/** Throws `validation_failed` unless every entry is a bare origin such as `https://app.example.com`. */
export function checkOrigins(origins: readonly string[]): void {
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (parsed?.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
      throw ReamError.nonRetryable('validation_failed', `CORS origin "${origin}" must be an http(s) origin such as https://app.example.com (no path, no trailing slash)`);
    }
  }
}

/**
 * CORS for the listed origins (none without options: no cross-origin access). Preflights are
 * answered in an `onRequest` hook registered before authentication, since browsers send them
 * without the Authorization header. An OPTIONS request that is not a preflight (a tus client
 * asking what the server supports) passes on to its route.
 */
export function registerCors(app: FastifyInstance, options: CorsOptions | undefined): void {
  if (!options || options.origins.length === 0) return;
  checkOrigins(options.origins);
  const allowed: FastifyCorsOptions = {
    origin: options.origins,
    methods: METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_S,
    strictPreflight: false,
  };
  void app.register(cors, {
    delegator(request, callback) {
      const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
      callback(null, request.method === 'OPTIONS' && !preflight ? { origin: false } : allowed);
    },
  });
  // After the CORS hook: routes that hijack their reply (SSE) write the raw response and never
  // send the reply's headers, so the CORS ones go onto the raw response as well.
  app.addHook('onRequest', (_request, reply, done) => {
    for (const name of MIRRORED_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    done();
  });
}

/**
 * The CORS options for the tus server at /v1/uploads: it answers its own requests and sets its own
 * CORS headers, which win over the mirrored ones. Without `allowedOrigins` @tus/server answers
 * `Access-Control-Allow-Origin: *`, which would let any web page upload to a local server.
 * (Preflights never reach it while {@link registerCors} is on: the hook answers them.)
 */
export function tusCorsOptions(options: CorsOptions | undefined): Pick<TusOptions, 'allowedOrigins' | 'exposedHeaders' | 'allowedCredentials'> {
  const origins = options?.origins ?? [];
  return {
    allowedOrigins: (origin: string) => origins.includes(origin),
    // @tus/server exposes its own protocol headers already (Location, Upload-Offset, Tus-*…).
    exposedHeaders: ['Upload-Expires', 'Ream-Document-Id'],
    allowedCredentials: false,
  };
}
