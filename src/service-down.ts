// Whether an unexpected error is a service ream depends on (PostgreSQL, Redis) not answering,
// rather than a fault of ream's: the client then gets 503 `unavailable` (retry later), not 500
// `internal` (its message stays out of the answer: it names hosts; the log keeps it), and a task
// that failed so is retried as `unavailable`, seconds apart, not spent at once (toReamError).

/** Node's socket errors of a peer that is down, unreachable or gone mid-request. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/**
 * PostgreSQL's SQLSTATEs of a server shutting down or refusing connections (57P01–03), of one
 * whose connection slots are all taken (53300 too_many_connections: "sorry, too many clients
 * already", as while a burst of processes reconnects after an outage), and of a statement it
 * aborted (57014 query_canceled: past `statement_timeout`, as behind a lock held too long).
 */
const POSTGRES_DOWN = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
/** node-postgres and ioredis say so in words only. */
/** ioredis's `Command timed out` and node-postgres's `Query read timeout`: a service that did not answer in time. */
const DOWN_WORDS = /^(Connection terminated|timeout exceeded when trying to connect|Connection is closed|Client has encountered a connection error|Command timed out|Query read timeout)/;

export function isServiceDown(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || POSTGRES_DOWN.has(code) || code.startsWith('08'))) return true;
  if (error.name === 'MaxRetriesPerRequestError' || DOWN_WORDS.test(error.message)) return true;
  // Node answers a host with several addresses with an AggregateError of each attempt.
  if (error instanceof AggregateError && error.errors.some((inner) => isServiceDown(inner, depth + 1))) return true;
  return isServiceDown(error.cause, depth + 1);
}

/**
 * Whether PostgreSQL cancelled a statement (57014 query_canceled): past `statement_timeout`
 * (`--pg-statement-timeout`), as behind a lock held too long or on a very large deletion, or by an
 * operator's `pg_cancel_backend`. The statement's writes were rolled back.
 */
export function isStatementCancelled(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  if ((error as { code?: unknown }).code === '57014') return true;
  if (error instanceof AggregateError && error.errors.some((inner) => isStatementCancelled(inner, depth + 1))) return true;
  return isStatementCancelled(error.cause, depth + 1);
}

/** What a caller is told of a statement PostgreSQL cancelled: nothing of it was written, and what to do. */
export const STATEMENT_CANCELLED_MESSAGE = 'the database cancelled a statement that ran past its time limit (--pg-statement-timeout, '
  + 'REAM_PG_STATEMENT_TIMEOUT_MS; behind a lock held long, or on very much data) and wrote nothing of it: try again shortly, '
  + 'and if it keeps happening raise the limit';
