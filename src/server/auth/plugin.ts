import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { sendProblem, toProblem } from '../problem.ts';
import { accessOf, requireDeclaredAccess } from './access.ts';
import { createJwtVerifier } from './jwt.ts';
import { LOCAL_PRINCIPAL, setPrincipal, type Principal } from './principal.ts';
import { localCoordination, type Coordination } from '../coordination.ts';
import { clientKey } from '../connection-limits.ts';
import { isWebSocketUpgrade, protocolBearer, redeemWsTicket } from './ws-credentials.ts';
import { redeemDownloadTicket, takesDownloadTicket } from './download-tickets.ts';

export type AuthOptions =
  | { mode: 'off' }
  | {
      mode: 'on';
      /** HS256 shared secret for JWTs. */
      jwtSecret?: string;
      /** RS256 / ES256 keys for JWTs: a JWKS JSON file path, or the parsed document. */
      jwks?: string | { keys: unknown[] };
      /** RS256 / ES256 keys for JWTs fetched from this URL (cached; an unknown `kid` fetches it again). Wins over `jwks`. */
      jwksUrl?: string;
      /** When set, a JWT's `iss` must equal it. */
      jwtIssuer?: string;
      /** When set, a JWT's `aud` must be (or contain) it. */
      jwtAudience?: string;
      /** A JWT must carry `exp` (default true); false accepts tokens that never expire. */
      jwtRequireExp?: boolean;
      /** A fetched JWKS is kept this long, in ms. Default 10 min. */
      jwksCacheMaxAgeMs?: number;
      /** An unknown `kid` fetches the JWKS again at most this often, in ms. Default 30 s. */
      jwksCooldownMs?: number;
    };

/**
 * Refused credentials (a bad key or token, a used ticket) answered 401 per client address per
 * minute, in bursts of as many; past it a refusal is 429 `rate_limited` with `Retry-After`, which
 * tells a client stuck on a revoked key, or a guesser, to slow down. Right credentials are never
 * held back: behind a proxy every client has the proxy's address, and one client's bad key must
 * not lock the others out. (Guessing is hopeless anyway: keys hold 256 random bits.)
 */
export const AUTH_FAILURES_PER_MINUTE = 30;

export interface RateLimitOptions {
  /** Sustained requests per minute per subject (API key or JWT subject); bursts up to the same number. */
  requestsPerMinute: number;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** The `ticket` query parameter of a WebSocket upgrade (ws-credentials.ts) or a browser download (download-tickets.ts). */
function ticketOf(request: FastifyRequest): string | undefined {
  const { ticket } = (request.query ?? {}) as { ticket?: unknown };
  return typeof ticket === 'string' && ticket !== '' ? ticket : undefined;
}

function unauthorized(reply: FastifyReply, message: string): FastifyReply {
  return sendProblem(reply.header('www-authenticate', 'Bearer'), toProblem(ReamError.nonRetryable('unauthorized', message)));
}

/** 429 `rate_limited` with `Retry-After`: `why`, then when to retry. */
/** False once the API key a principal holds is revoked; a JWT (which cannot be revoked) and auth off are always live. */
export async function keyStillLive(keys: Pick<Ream, 'apiKeyLive'>, principal: Principal): Promise<boolean> {
  const { tenantId, subject } = principal;
  if (subject === LOCAL_PRINCIPAL.subject || subject.startsWith('jwt:')) return true;
  return keys.apiKeyLive(tenantId, subject);
}

function rateLimited(reply: FastifyReply, waitMs: number, why: string): FastifyReply {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return sendProblem(reply.header('retry-after', String(seconds)), toProblem(ReamError.nonRetryable('rate_limited', `${why}: retry in ${seconds} s`)));
}

const REFUSED_TOO_OFTEN = 'too many refused credentials from this address';

/**
 * Authentication (API key or JWT → a {@link Principal}), authorization by the matched route's
 * declared access ({@link accessOf}: public, tenant or admin), and per-subject rate limits, as one
 * `onRequest` hook on the whole server. Every route registered after this call must declare its
 * access. With auth off every request is the local tenant (the server refuses non-loopback hosts then).
 */
export function registerAuth(app: FastifyInstance, keys: Pick<Ream, 'findApiKey' | 'apiKeyLive'>, auth: AuthOptions, rateLimit?: RateLimitOptions, coordination: Coordination = localCoordination()): void {
  const verifyJwt =
    auth.mode === 'on'
      ? createJwtVerifier({
          ...(auth.jwtSecret === undefined ? {} : { secret: auth.jwtSecret }),
          ...(auth.jwks === undefined ? {} : { jwks: auth.jwks }),
          ...(auth.jwksUrl === undefined ? {} : { jwksUrl: auth.jwksUrl }),
          ...(auth.jwtIssuer === undefined ? {} : { issuer: auth.jwtIssuer }),
          ...(auth.jwtAudience === undefined ? {} : { audience: auth.jwtAudience }),
          ...(auth.jwtRequireExp === undefined ? {} : { requireExp: auth.jwtRequireExp }),
          ...(auth.jwksCacheMaxAgeMs === undefined ? {} : { jwksCacheMaxAgeMs: auth.jwksCacheMaxAgeMs }),
          ...(auth.jwksCooldownMs === undefined ? {} : { jwksCooldownMs: auth.jwksCooldownMs }),
          // One line, no stack: a key server that is down must not flood the log with one stack per request.
          onKeySetError: (error) => app.log.warn(`cannot get the JWKS${auth.jwksUrl === undefined ? '' : ` from ${auth.jwksUrl}`}: ${error instanceof Error ? error.message : String(error)}`),
          onBadToken: (reason) => app.log.debug(`bearer token refused: ${reason}`),
        })
      : undefined;

  const authenticate = async (token: string): Promise<Principal | undefined> => {
    if (token.startsWith('ream_')) {
      const key = await keys.findApiKey(token);
      return key && { tenantId: key.tenantId, role: key.role, subject: key.id };
    }
    const claims = verifyJwt && (await verifyJwt(token));
    return claims && { tenantId: claims.tenantId, role: claims.role, subject: `jwt:${claims.tenantId}:${claims.subject}` };
  };

  const refuseCredentials = async (request: FastifyRequest, reply: FastifyReply, message: string): Promise<FastifyReply> => {
    // Shared by every instance of a deployment (the coordination's buckets), so the budget does not multiply with them.
    // Per client as connections are counted: an IPv6 host holds a whole /64, one budget per address was one per guess.
    const wait = await coordination.takeToken(`auth-failure:${clientKey(request.ip)}`, AUTH_FAILURES_PER_MINUTE);
    return wait <= 0 ? unauthorized(reply, message) : rateLimited(reply, wait, REFUSED_TOO_OFTEN);
  };

  requireDeclaredAccess(app);
  app.addHook('onRequest', async (request, reply) => {
    const access = accessOf(request);
    if (access === 'public') return;
    let principal: Principal | undefined;
    if (auth.mode === 'on') {
      // Browsers cannot set headers on a WebSocket: they offer the token as a subprotocol, or a ticket.
      // Browsers cannot set headers on a navigation either: a download takes a ticket bound to its URL.
      const upgrade = isWebSocketUpgrade(request);
      const token = bearer(request) ?? (upgrade ? protocolBearer(request) : undefined);
      const ticket = token === undefined && (upgrade || takesDownloadTicket(request)) ? ticketOf(request) : undefined;
      if (token === undefined && ticket === undefined) return unauthorized(reply, 'missing credentials: send Authorization: Bearer <API key or JWT>');
      if (ticket !== undefined && !upgrade) {
        const redeemed = await redeemDownloadTicket(coordination, ticket, request.url);
        if ('refused' in redeemed) return refuseCredentials(request, reply, redeemed.refused);
        // Issued to an API key: a key revoked since then opens nothing more (a JWT cannot be revoked).
        if (!(await keyStillLive(keys, redeemed.principal))) return refuseCredentials(request, reply, 'the API key this download ticket was issued to has been revoked');
        principal = redeemed.principal;
      } else principal = token === undefined ? await redeemWsTicket(coordination, ticket ?? '') : await authenticate(token);
      if (!principal) return refuseCredentials(request, reply, `invalid, expired or revoked ${token === undefined ? 'ticket' : 'credentials'}`);
      // A WebSocket ticket, as a download ticket: a key revoked since it was issued opens nothing more.
      if (ticket !== undefined && !(await keyStillLive(keys, principal))) return refuseCredentials(request, reply, 'the API key this ticket was issued to has been revoked');
      setPrincipal(request, principal);
      if (access === 'admin' && principal.role !== 'admin') {
        return sendProblem(reply, toProblem(ReamError.nonRetryable('forbidden', `${request.method} ${request.routeOptions.url ?? ''} needs an admin key`)));
      }
    }
    if (rateLimit) {
      // Shared by every instance of a deployment: a key's budget does not multiply with them.
      const wait = await coordination.takeToken(principal?.subject ?? 'local', rateLimit.requestsPerMinute);
      if (wait > 0) return rateLimited(reply, wait, 'rate limit exceeded');
    }
    return undefined;
  });
}
