import { readFileSync } from 'node:fs';
import { ReamError, toReamError } from '../errors.ts';
import type { JsonValue } from '../json.ts';

/** The rules of `--rules <file>` (JSON); `validation_failed` when it cannot be read or parsed. */
export function readRulesFile(path: string): JsonValue {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JsonValue;
  } catch (error) {
    throw ReamError.nonRetryable('validation_failed', `cannot read rules file ${path}: ${toReamError(error).message}`);
  }
}
