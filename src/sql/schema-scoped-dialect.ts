import {
  PostgresDialect,
  sql,
  type DatabaseIntrospector,
  type Kysely,
  type PostgresDialectConfig,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';

/**
 * Kysely's PostgreSQL dialect with an introspector that looks at one schema only.
 *
 * Why: Kysely's migrator asks the introspector whether its ledger tables exist, and the stock
 * introspector lists every table of the database, calling `pg_get_serial_sequence` on each
 * column by name. When another process drops a schema during that scan (another ream schema in
 * the same database, a test cleaning up), the scan fails with `schema "<theirs>" does not exist`
 * and our migration fails for nothing. It also costs time proportional to the whole database.
 * Only our own schema matters to ream, so the scan is limited to it.
 */
export class SchemaScopedPostgresDialect extends PostgresDialect {
  readonly #schema: string;

  constructor(config: PostgresDialectConfig, schema: string) {
    super(config);
    this.#schema = schema;
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SchemaScopedIntrospector(db, this.#schema);
  }
}

interface ColumnRow {
  table: string;
  table_type: string;
  column: string | null;
  data_type: string | null;
  is_nullable: string | null;
  column_default: string | null;
  is_identity: string | null;
}

class SchemaScopedIntrospector implements DatabaseIntrospector {
  private readonly db: Kysely<unknown>;
  private readonly schema: string;

  constructor(db: Kysely<unknown>, schema: string) {
    this.db = db;
    this.schema = schema;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db);
    return rows;
  }

  /** The schema's tables and views with their columns. `withInternalKyselyTables` is moot: ledgers are ordinary tables here. */
  async getTables(): Promise<TableMetadata[]> {
    // information_schema reads by name within one schema: a schema dropped elsewhere meanwhile cannot fail it.
    const { rows } = await sql<ColumnRow>`
      select t.table_name as "table", t.table_type, c.column_name as "column", c.data_type, c.is_nullable, c.column_default, c.is_identity
        from information_schema.tables t
        left join information_schema.columns c on c.table_schema = t.table_schema and c.table_name = t.table_name
       where t.table_schema = ${this.schema}
       order by t.table_name, c.ordinal_position`.execute(this.db);
    const tables = new Map<string, TableMetadata>();
    for (const row of rows) {
      let table = tables.get(row.table);
      if (table === undefined) {
        table = { name: row.table, schema: this.schema, isView: row.table_type === 'VIEW', isForeign: row.table_type === 'FOREIGN', columns: [] };
        tables.set(row.table, table);
      }
      if (row.column === null) continue;
      table.columns.push({
        name: row.column,
        dataType: row.data_type ?? '',
        isNullable: row.is_nullable === 'YES',
        hasDefaultValue: row.column_default !== null,
        isAutoIncrementing: row.is_identity === 'YES' || (row.column_default?.startsWith('nextval(') ?? false),
      });
    }
    return [...tables.values()];
  }
}
