import type { FastifyInstance, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { ReamError } from '../errors.ts';
import { sendProblem, toProblem } from './problem.ts';

/** True for hosts that only this machine can reach: `localhost`, 127/8, ::1, and their IPv4-mapped forms. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || (ipaddr.isValid(h) && ipaddr.process(h).range() === 'loopback');
}

export interface HostCheckOptions {
  /** The URL browsers reach the server at besides loopback names (a proxy, a tunnel). */
  publicUrl?: string;
  /** Origins allowed by CORS: their pages may change things too. */
  corsOrigins?: readonly string[];
}

/** Methods that change something; the WebSocket upgrade (a GET) is judged with them. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** What a Host header may hold: a name or IPv4, or a bracketed IPv6, and a port. Nothing URL-like. */
const HOST_SYNTAX = /^(?:[a-z0-9._-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** `host[:port]` parsed as a URL authority, or `undefined` if it is not one. */
function authority(host: string): URL | undefined {
  if (!HOST_SYNTAX.test(host) || !URL.canParse(`http://${host}`)) return undefined;
  return new URL(`http://${host}`);
}

function forbidden(message: string): ReturnType<typeof toProblem> {
  return toProblem(ReamError.nonRetryable('forbidden', message));
}

/**
 * Without auth every request acts as the `local` tenant, and the server binds to loopback only.
 * That is not enough against a browser: a page on another site may post to it (a form, a
 * WebSocket), and a name of the attacker's that rebinds to 127.0.0.1 makes the browser treat the
 * server as that site (DNS rebinding). So, with auth off:
 * - only requests whose `Host` is a loopback name (`localhost`, `127.x.y.z`, `[::1]`, any port)
 *   or the host of `publicUrl` are answered;
 * - a state-changing request (POST, PUT, PATCH, DELETE, the WebSocket upgrade) that carries an
 *   `Origin` must come from the server's own origin (the `Host` it was sent to), the origin of
 *   `publicUrl`, or an allowed CORS origin. Requests without `Origin` (curl, the SDK) pass.
 * Both refusals are 403 `forbidden`. With auth on, credentials are bearer tokens a browser never
 * sends on its own, and operators run behind proxies whose names the server does not know: no check.
 */
export function registerHostCheck(app: FastifyInstance, options: HostCheckOptions = {}): void {
  const publicUrl = options.publicUrl === undefined ? undefined : new URL(options.publicUrl);
  const allowedOrigins = new Set([...(options.corsOrigins ?? []), ...(publicUrl ? [publicUrl.origin] : [])]);
  const hostAnswered = (host: URL): boolean => isLoopbackHost(host.hostname) || host.hostname === publicUrl?.hostname;

  app.addHook('onRequest', (request, reply, done) => {
    const given = request.headers.host;
    // No Host at all (HTTP/1.0): no browser sends that, so it cannot be a rebinding.
    const host = given === undefined ? undefined : authority(given);
    if (given !== undefined && (host === undefined || !hostAnswered(host))) {
      sendProblem(reply, forbidden(`Host "${given}" is not answered while auth is off: only loopback names (localhost, 127.0.0.1, [::1])${publicUrl ? ` and ${publicUrl.hostname} (--public-url)` : ' and the host of --public-url'} are`));
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && changesState(request) && !originAllowed(origin, host, allowedOrigins)) {
      sendProblem(reply, forbidden(`Origin "${origin}" may not ${request.method} here while auth is off: only the server's own origin, the origin of --public-url and --cors-origin origins may`));
      return;
    }
    done();
  });
}

function changesState(request: FastifyRequest): boolean {
  return STATE_CHANGING.has(request.method) || request.headers.upgrade?.toLowerCase() === 'websocket';
}

/** Own origin: the same host and port the request was sent to (the scheme is the proxy's business). */
function originAllowed(origin: string, host: URL | undefined, allowed: ReadonlySet<string>): boolean {
  if (allowed.has(origin)) return true;
  if (host === undefined || !URL.canParse(origin)) return false; // "null": a sandboxed page, a file
  const parsed = new URL(origin);
  return /^https?:$/.test(parsed.protocol) && parsed.host === host.host;
}
