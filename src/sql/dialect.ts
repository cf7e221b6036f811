import type { JsonValue } from '../json.ts';

/**
 * The SQL dialects the Kysely-based adapters speak. Queries are written once; the few places
 * that differ (identity columns, `FOR UPDATE SKIP LOCKED`) branch on this.
 */
export type SqlFlavor = 'sqlite' | 'postgres';

/** JSON columns are text in every dialect (portable, and never queried into). */
export function toJsonText(value: JsonValue | object): string {
  return JSON.stringify(value);
}

export function fromJsonText<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function fromNullableJsonText<T>(text: string | null): T | null {
  return text === null ? null : fromJsonText<T>(text);
}

/**
 * Integers may come back as strings (PostgreSQL `bigint`, `count(*)`, `sum(…)`) or as `null`
 * (`sum` over no rows). Epoch ms fit a double exactly, so Number is safe.
 */
export function toNumber(value: string | number | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

export function toNullableNumber(value: string | number | bigint | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** A foreign key pointed nowhere: SQLite's extended code, or PostgreSQL's SQLSTATE 23503. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/** A page size from user input: whole, at least 1, at most `max`; `fallback` when absent or not a number. */
export function clampLimit(value: number | undefined, fallback: number, max: number): number {
  return value === undefined || !Number.isFinite(value) ? fallback : Math.min(Math.max(1, Math.floor(value)), max);
}
