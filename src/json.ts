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
