// How a browser saves a results file without holding it in memory: it cannot set `Authorization`
// on a navigation, so it first asks `POST /v1/download-tickets` (with its bearer token, over fetch)
// for a single-use ticket bound to one download URL, then navigates `<a download href=url&ticket=…>`
// and the browser streams the file to disk. The token never appears in a URL; the ticket is kept
// the way WebSocket tickets are (ws-credentials.ts): hashed, in the coordination store, taken once.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { DOWNLOAD_FORMATS } from '../../api-types.ts';
import { CSV_FORMULA_MODES } from '../../exports/csv-formulas.ts';
import { ReamError } from '../../errors.ts';
import type { Coordination } from '../coordination.ts';
import type { Principal } from './principal.ts';

/** A ticket is good for one download within this time. */
export const DOWNLOAD_TICKET_TTL_MS = 60_000;
const TICKET_PREFIX = 'dlt_';
/** The longest path a ticket may be asked for (the route's body schema says the same). */
export const MAX_PATH_CHARS = 2048;

/** The routes a ticket may open, with the query parameters each takes and their allowed values. */
const DOWNLOAD_ROUTES: ReadonlyArray<{ pattern: string; query: Readonly<Record<string, readonly string[]>> }> = [
  { pattern: '/v1/jobs/:id/download', query: { format: DOWNLOAD_FORMATS, formulas: CSV_FORMULA_MODES } },
  { pattern: '/v1/jobs/:id/documents/:documentId/download', query: { format: DOWNLOAD_FORMATS, formulas: CSV_FORMULA_MODES } },
  { pattern: '/v1/jobs/:id/artifacts/:name', query: {} },
  { pattern: '/v1/jobs/:id/artifacts.zip', query: {} },
];

/** Route patterns that accept `?ticket=` instead of `Authorization` (GET only). */
const TICKET_ROUTES: ReadonlySet<string> = new Set(DOWNLOAD_ROUTES.map((route) => route.pattern));

/** `/v1/jobs/:id/download` as a regex over a raw (still percent-encoded) path: one capture per parameter. */
function routeRegex(pattern: string): RegExp {
  const source = pattern.split('/').map((part) => (part.startsWith(':') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
  return new RegExp(`^${source}$`);
}
const MATCHERS = DOWNLOAD_ROUTES.map((route) => ({ ...route, regex: routeRegex(route.pattern) }));

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

/** The query without `ticket`, in a fixed order: two spellings of the same request compare equal. */
function canonicalQuery(search: string): URLSearchParams {
  const params = new URLSearchParams(search);
  params.delete('ticket');
  params.sort();
  return params;
}

/** A path and its query as the binding of a ticket: the raw path, the sorted query without `ticket`. */
function binding(path: string): string {
  const at = path.indexOf('?');
  // As a browser sends it (spaces and non-ASCII percent-encoded): the href and the request compare equal.
  const pathname = new URL(at === -1 ? path : path.slice(0, at), 'http://ream.invalid').pathname;
  const query = canonicalQuery(at === -1 ? '' : path.slice(at + 1)).toString();
  return query === '' ? pathname : `${pathname}?${query}`;
}

export interface DownloadPath {
  /** The job the path downloads from (decoded). */
  jobId: string;
  /** What the ticket is bound to. */
  binding: string;
}

/**
 * Parses `path` as one of the download or artifact routes (`/v1/jobs/:id/download?format=csv`,
 * …): the path as the router will see it, only the query parameters that route takes, each once
 * with an allowed value. Throws `validation_failed` for anything else.
 */
export function parseDownloadPath(path: string): DownloadPath {
  if (path.length > MAX_PATH_CHARS) throw invalid(`path is longer than ${MAX_PATH_CHARS} characters`);
  if (!path.startsWith('/v1/jobs/') || path.includes('#')) throw invalid('path must be a download or artifact URL path of a job, such as /v1/jobs/<id>/download?format=csv');
  const at = path.indexOf('?');
  const pathname = at === -1 ? path : path.slice(0, at);
  const search = at === -1 ? '' : path.slice(at + 1);
  // `.` and `..` segments would be resolved by a browser before it sends the request.
  if (pathname.split('/').some((segment) => segment === '.' || segment === '..')) throw invalid('path must not have . or .. segments');
  const route = MATCHERS.find((candidate) => candidate.regex.test(pathname));
  if (!route) throw invalid(`path ${JSON.stringify(pathname)} is not a download or artifact route (${[...TICKET_ROUTES].join(', ')})`);
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(search)) {
    const allowed = route.query[name];
    if (allowed === undefined) throw invalid(`${route.pattern} takes no query parameter ${JSON.stringify(name)}`);
    if (seen.has(name)) throw invalid(`query parameter ${name} is given twice`);
    if (!allowed.includes(value)) throw invalid(`query parameter ${name} must be one of ${allowed.join(', ')}`);
    seen.add(name);
  }
  const rawJobId = route.regex.exec(pathname)?.[1] ?? '';
  let jobId: string;
  try {
    jobId = decodeURIComponent(rawJobId);
  } catch {
    throw invalid('path has a malformed percent-encoding');
  }
  return { jobId, binding: binding(path) };
}

/** Where a ticket is kept: its hash, so a dump of the coordination store holds no usable ticket. */
function ticketKey(ticket: string): string {
  return `dlticket:${createHash('sha256').update(ticket).digest('hex')}`;
}

interface StoredTicket {
  principal: Principal;
  binding: string;
}

/**
 * A new ticket acting as `principal` for one GET of `path` within `ttlMs`: the URL to open. The
 * path is parsed here again (a caller that skipped {@link parseDownloadPath} gets no ticket).
 */
export async function issueDownloadTicket(
  coordination: Coordination,
  principal: Principal,
  path: string,
  ttlMs = DOWNLOAD_TICKET_TTL_MS,
  now = Date.now(),
): Promise<{ url: string; expiresAt: number }> {
  const { binding: bound } = parseDownloadPath(path);
  const ticket = `${TICKET_PREFIX}${randomBytes(32).toString('base64url')}`;
  const stored: StoredTicket = { principal: { tenantId: principal.tenantId, role: principal.role, subject: principal.subject }, binding: bound };
  await coordination.putOnce(ticketKey(ticket), JSON.stringify(stored), ttlMs);
  return { url: `${path}${path.includes('?') ? '&' : '?'}ticket=${ticket}`, expiresAt: now + ttlMs };
}

/** True for a request that may authenticate with a download ticket: a GET of a download or artifact route. */
export function takesDownloadTicket(request: FastifyRequest): boolean {
  return request.method === 'GET' && TICKET_ROUTES.has(request.routeOptions.url ?? '');
}

/**
 * The principal of the request's ticket, which is used up by this call (a mismatched use burns it
 * too: a leaked ticket is good for nothing after one wrong try); else why it is refused.
 */
export async function redeemDownloadTicket(coordination: Coordination, ticket: string, url: string): Promise<{ principal: Principal } | { refused: string }> {
  const stale = 'invalid, expired or already used download ticket: ask POST /v1/download-tickets for a new one';
  if (!ticket.startsWith(TICKET_PREFIX) || new URLSearchParams(url.slice(url.indexOf('?') + 1)).getAll('ticket').length !== 1) return { refused: stale };
  const value = await coordination.takeOnce(ticketKey(ticket));
  if (value === undefined) return { refused: stale };
  // Written by issueDownloadTicket of this or another instance of the same deployment.
  const stored = JSON.parse(value) as StoredTicket;
  if (stored.binding !== binding(url)) return { refused: 'this download ticket was issued for another URL (path and query must match exactly); it is now used up' };
  const { tenantId, role, subject } = stored.principal;
  return { principal: { tenantId, role, subject } };
}
