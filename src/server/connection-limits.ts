import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ReamError } from '../errors.ts';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.ts';

/**
 * How long a request's headers may take to arrive, in ms (Node's default is 60 s, checked every
 * 30 s: a connection that sent nothing, or a header byte at a time, was held up to 90 s).
 */
export const HEADERS_TIMEOUT_MS = 20_000;
/** How often Node checks connections against the headers timeout, in ms (its default is 30 s). */
const CONNECTIONS_CHECK_MS = 2_000;
/** Connections one client address may hold at once by default (see {@link ConnectionLimitOptions}). */
export const MAX_CONNECTIONS_PER_CLIENT = 256;
/** How long a refused connection may stay open for its answer to be read, in ms. */
const REFUSED_LINGER_MS = 1_000;

export interface ConnectionLimitOptions {
  /**
   * Connections one client may hold open at once (an IPv4 address, an IPv6 /64); those over it
   * are answered 429 `rate_limited` and closed. 0: no limit. Default {@link MAX_CONNECTIONS_PER_CLIENT}.
   */
  perClient?: number;
  /**
   * Whether loopback peers (a reverse proxy on this machine, whose connections all come from one
   * address; local tools) are exempt. Default true.
   */
  exemptLoopback?: boolean;
  /**
   * Peers exempt besides loopback: addresses or CIDR ranges (`10.0.0.7`, `172.16.0.0/12`,
   * `fd00::/8`). A reverse proxy in another container or on another host brings every client
   * through its one address: counted as one client, it was refused past the limit (its 257th
   * open event stream, say) for all of them at once.
   */
  exempt?: readonly string[];
}

/** Parses an address or CIDR range of {@link ConnectionLimitOptions.exempt}; `validation_failed` when it is neither. */
export function parseExemptRange(value: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const text = value.trim();
  try {
    if (text.includes('/')) return ipaddr.parseCIDR(text);
    const address = ipaddr.parse(text);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw ReamError.nonRetryable('validation_failed', `"${value}" is not an IP address or a CIDR range such as 172.16.0.0/12`);
  }
}

function exemptMatcher(ranges: readonly string[]): (address: string | undefined) => boolean {
  const parsed = ranges.map(parseExemptRange);
  if (parsed.length === 0) return () => false;
  return (address) => {
    if (address === undefined || !ipaddr.isValid(address)) return false;
    const peer = ipaddr.process(address);
    return parsed.some(([range, bits]) => range.kind() === peer.kind() && peer.match(range, bits));
  };
}

/** The client a connection counts against: its IPv4 address, or the /64 of its IPv6 one (one host holds a whole /64). */
export function clientKey(address: string | undefined): string {
  if (address === undefined || !ipaddr.isValid(address)) return address ?? '';
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((part) => part.toString(16)).join(':')}::/64`;
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback';
}

function refusal(limit: number): string {
  const body = JSON.stringify({ ...toProblem(ReamError.retryable('rate_limited', `too many connections from this address at once (the limit is ${limit}): reuse or close some, then try again`)), status: 429 });
  return `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Bounds what slow or many connections of one client hold. A client that opens connections and
 * trickles their headers a byte at a time (slowloris) held each for up to 90 s, with no bound on
 * how many: a few hundred took every file descriptor the process had, and other clients' requests
 * were reset. Now headers must come within {@link HEADERS_TIMEOUT_MS} (408 `timeout`, closed), and
 * a client over its connection count is answered 429 before any of its bytes are parsed.
 * Bodies are bounded by body-deadline.ts (an upload may take long, but not stall).
 */
export function limitConnections(server: Server, options: ConnectionLimitOptions = {}): void {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  // A constructor option in @types/node, but a plain property Node reads when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = CONNECTIONS_CHECK_MS;
  const limit = options.perClient ?? MAX_CONNECTIONS_PER_CLIENT;
  if (limit <= 0) return;
  const exemptLoopback = options.exemptLoopback ?? true;
  const exempt = exemptMatcher(options.exempt ?? []);
  const open = new Map<string, Set<Socket>>();
  // Requests being answered on each connection; none recorded before its first request (an
  // upgraded connection has none ever): only a connection that answered and waits for another is idle.
  const answering = new WeakMap<Socket, number>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    answering.set(socket, (answering.get(socket) ?? 0) + 1);
    response.once('close', () => answering.set(socket, (answering.get(socket) ?? 1) - 1));
  });
  // Node's HTTP server reads every connection it hears of: a refused one must not reach it.
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if ((exemptLoopback && isLoopback(address)) || exempt(address)) {
      for (const handler of handlers) handler.call(server, socket);
      return;
    }
    const key = clientKey(address);
    const held = open.get(key) ?? new Set<Socket>();
    if (held.size >= limit) {
      // A keep-alive connection waiting for the client's next request (held up to the server's
      // keep-alive timeout) gives way, as a client closes one to open another: the client's pool
      // of idle connections did not keep its new ones, or another process's on its host, out.
      const idle = [...held].find((other) => answering.get(other) === 0);
      if (idle === undefined) {
        socket.on('error', () => undefined);
        socket.resume(); // what it sends is dropped
        socket.end(refusal(limit));
        setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
        return;
      }
      held.delete(idle);
      idle.destroy();
    }
    held.add(socket);
    open.set(key, held);
    socket.once('close', () => {
      held.delete(socket);
      if (held.size === 0 && open.get(key) === held) open.delete(key);
    });
    for (const handler of handlers) handler.call(server, socket);
  });
}
