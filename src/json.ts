import { ReamError } from './errors.ts';

/** A value that survives JSON.stringify/parse unchanged: what crosses threads, processes and stores. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Marks a value of a known, JSON-safe shape as JSON at a storage boundary. TypeScript cannot see
 * that an interface without an index signature is JSON-compatible, so this is a checked-by-design
 * cast: only pass plain data (no Dates, Maps, class instances, undefined in arrays).
 */
export function asJson<T>(value: T): JsonValue {
  return value as unknown as JsonValue;
}

/** The reverse of {@link asJson}: reads back a value this code wrote in that shape. */
export function fromJson<T>(value: JsonValue | null | undefined): T {
  return value as unknown as T;
}

/**
 * Parses text that must hold a JSON object (options, a WebSocket message). Anything else —
 * bad JSON, an array, a number — is a `validation_failed` ReamError saying `what` was wrong.
 */
export function parseJsonObject(text: string, what: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw ReamError.nonRetryable('validation_failed', `${what} must be a JSON object (it is not valid JSON)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw ReamError.nonRetryable('validation_failed', `${what} must be a JSON object`);
  }
  return parsed as JsonObject;
}

/** Whether a string anywhere in `value` (keys included) holds a NUL character; iterative, so any depth is fine. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (item.includes('\0')) return true;
    } else if (Array.isArray(item)) {
      for (const entry of item) stack.push(entry);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, entry] of Object.entries(item)) {
        if (key.includes('\0')) return true;
        stack.push(entry);
      }
    }
  }
  return false;
}
