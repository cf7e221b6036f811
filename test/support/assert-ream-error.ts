import assert from 'node:assert/strict';
import { ReamError } from '../../src/errors.ts';

/** Awaits `promise`, which must reject with a ReamError of `code` (and a message matching `message`). */
export async function rejectsWithCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<ReamError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, got a result`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ReamError, `expected a ReamError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return error;
}
