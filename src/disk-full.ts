// Whether an error is a write that found no room: the disk or the user's quota is full. Every
// further write would fail the same way until someone frees space, so such a failure is said as
// such (`io_error`, "no space left"), and `ream run` stops at it rather than fail file after file.

/**
 * errno codes of a full disk (ENOSPC) or quota (EDQUOT), SQLite's SQLITE_FULL ("database or disk
 * is full") and PostgreSQL's SQLSTATE 53100 (disk_full).
 */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', '53100']);

export function isDiskFull(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NO_ROOM.has(code)) return true;
  return isDiskFull(error.cause, depth + 1);
}
