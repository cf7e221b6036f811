// How a browser authenticates a WebSocket: it cannot set `Authorization` on one, so it either
// offers the token as a subprotocol (`new WebSocket(url, ['ream.v1', 'bearer.' + token])`) or
// first asks `POST /v1/ws-ticket` (with its bearer token, over fetch) for a short-lived, single-use
// ticket and connects to `/v1/ws?ticket=…`. A ticket keeps the token itself out of URLs, and so out
// of proxies' access logs.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Coordination } from '../coordination.ts';
import type { Principal } from './principal.ts';

/** The subprotocol the server answers with; a browser that offers a bearer element must offer it too. */
export const WS_PROTOCOL = 'ream.v1';
const BEARER_PREFIX = 'bearer.';
/** A ticket is good for one connection within this time. */
export const WS_TICKET_TTL_MS = 60_000;
const TICKET_PREFIX = 'wst_';

/** True for the WebSocket upgrade request. */
export function isWebSocketUpgrade(request: FastifyRequest): boolean {
  return request.headers.upgrade?.toLowerCase() === 'websocket';
}

/** The subprotocols a client offered, in its order. */
function offered(request: FastifyRequest): string[] {
  const header = request.headers['sec-websocket-protocol'];
  return (typeof header === 'string' ? header : '').split(',').map((value) => value.trim()).filter((value) => value !== '');
}

/** The token of a `bearer.<token>` subprotocol, if the client offered one. */
export function protocolBearer(request: FastifyRequest): string | undefined {
  const element = offered(request).find((value) => value.startsWith(BEARER_PREFIX));
  return element === undefined || element.length === BEARER_PREFIX.length ? undefined : element.slice(BEARER_PREFIX.length);
}

/**
 * The subprotocol to answer with: `ream.v1` when offered, else none. Never the bearer element: a
 * server that echoed the first offer (the `ws` default) would send the token back in a header.
 */
export function selectProtocol(protocols: ReadonlySet<string>): string | false {
  return protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false;
}

/** Where a ticket is kept: its hash, so a dump of the coordination store holds no usable ticket. */
function ticketKey(ticket: string): string {
  return `wsticket:${createHash('sha256').update(ticket).digest('hex')}`;
}

/** A new ticket acting as `principal`, good for one connection within {@link WS_TICKET_TTL_MS}. */
export async function issueWsTicket(coordination: Coordination, principal: Principal, now = Date.now()): Promise<{ ticket: string; expiresAt: number }> {
  const ticket = `${TICKET_PREFIX}${randomBytes(32).toString('base64url')}`;
  await coordination.putOnce(ticketKey(ticket), JSON.stringify(principal), WS_TICKET_TTL_MS);
  return { ticket, expiresAt: now + WS_TICKET_TTL_MS };
}

/** The principal of a ticket, which is used up by this call; undefined when unknown, used or expired. */
export async function redeemWsTicket(coordination: Coordination, ticket: string): Promise<Principal | undefined> {
  if (!ticket.startsWith(TICKET_PREFIX)) return undefined;
  const stored = await coordination.takeOnce(ticketKey(ticket));
  if (stored === undefined) return undefined;
  // Written by issueWsTicket of this or another instance of the same deployment.
  const { tenantId, role, subject } = JSON.parse(stored) as Principal;
  return { tenantId, role, subject };
}
