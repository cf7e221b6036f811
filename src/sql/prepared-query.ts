import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

/** Stands for the argument at `index` while a prepared query is built; never reaches a database. */
class Placeholder {
  readonly index: number;

  constructor(index: number) {
    this.index = index;
  }

  /** An argument turned into SQL text instead of passed as a value: a bug of the builder. */
  toString(): string {
    throw new Error('a prepared query used an argument as SQL text; pass it as a value');
  }
}

export interface PreparedQuery<DB, A extends readonly unknown[], R> {
  /** Runs the query with `args` on `on` (a transaction of the same database) or on the database it was prepared for. */
  execute(args: A, on?: Kysely<DB>): Promise<QueryResult<R>>;
  /** The first row, if any. */
  takeFirst(args: A, on?: Kysely<DB>): Promise<R | undefined>;
}

/**
 * A query of fixed shape, built and compiled once, then run with new values. Kysely builds and
 * compiles every query anew (10–30 µs of objects, freezing and string work), which the hot
 * statements of the queue and the store (leasing a task, reading a job, appending an event) repeat
 * tens of thousands of times in a run of small files.
 *
 * `build` receives stand-ins for its arguments and must pass each one straight through as a value
 * (`where('id', '=', id)`, `.set({ due_at: until })`, `values({ seq })`): never read it, convert it,
 * spread it or make SQL text of it, so that the query's shape cannot depend on it. Every argument
 * must appear as a value; one that does not is refused when the query is first built.
 */
export function prepareQuery<DB, A extends readonly unknown[], R>(
  db: Kysely<DB>,
  arity: A['length'],
  build: (db: Kysely<DB>, ...args: A) => Compilable<R>,
): PreparedQuery<DB, A, R> {
  let template: { sql: string; parameters: readonly unknown[] } | undefined;

  const compiled = (): { sql: string; parameters: readonly unknown[] } => {
    if (template) return template;
    const stand = Array.from({ length: arity }, (_, index) => new Placeholder(index)) as unknown as A;
    const { sql, parameters } = build(db, ...stand).compile();
    const used = new Set(parameters.flatMap((value) => (value instanceof Placeholder ? [value.index] : [])));
    if (used.size !== arity) throw new Error(`a prepared query must use each of its ${arity} arguments as a value (used: ${[...used].sort().join(', ') || 'none'})`);
    template = { sql, parameters };
    return template;
  };

  const execute = async (args: A, on: Kysely<DB> = db): Promise<QueryResult<R>> => {
    const { sql, parameters } = compiled();
    const values = parameters.map((value) => (value instanceof Placeholder ? args[value.index] : value));
    return on.executeQuery<R>(CompiledQuery.raw(sql, values));
  };

  return {
    execute,
    async takeFirst(args, on) {
      return (await execute(args, on)).rows[0];
    },
  };
}
