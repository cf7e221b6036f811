import { ReamError } from '../errors.ts';

/**
 * A failure to write `what` (words naming the file or folder) as the user is told it: `io_error`
 * naming it and the system's reason (a folder that cannot be made, a file that cannot be opened,
 * a full disk), not `internal`. A `ReamError` (a path refused by its own rule) stays as it is.
 */
export function writeFailure(what: string, error: unknown): ReamError {
  if (error instanceof ReamError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return ReamError.nonRetryable('io_error', `cannot write ${what}: ${reason}`, { cause: error });
}
