import type { ColumnType } from 'kysely';

// Column types for table interfaces. Integers may come back as strings: PostgreSQL drivers hand
// `bigint` (epoch ms, counters) back as text when it is not a safe integer, and aggregates too.

/** An integer column (`integer` or `bigint`), written as a number. */
export type Int = ColumnType<number | string, number, number>;
export type NullableInt = ColumnType<number | string | null, number | null, number | null>;
/** A nullable integer column with a default of NULL: inserts may leave it out. */
export type OptionalInt = ColumnType<number | string | null, number | null | undefined, number | null>;
/** A nullable text column with a default of NULL: inserts may leave it out. */
export type OptionalText = ColumnType<string | null, string | null | undefined, string | null>;
