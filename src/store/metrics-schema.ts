import type { Kysely } from 'kysely';
import type { Int } from '../sql/columns.ts';
import type { PortMigrations } from '../sql/migrate.ts';

export interface MetricsSamplesTable {
  /** The ring's slot: the interval's number modulo the ring's capacity. */
  slot: Int;
  at: Int;
  interval_ms: Int;
  /** JSON text: the sample's counts. */
  counts: string;
}

export type MetricsTables = { metrics_samples: MetricsSamplesTable };

async function createMetricsSamples(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('metrics_samples')
    .addColumn('slot', 'integer', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('interval_ms', 'integer', (c) => c.notNull())
    .addColumn('counts', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('metrics_samples_at').on('metrics_samples').column('at').execute();
}

export const metricsMigrations: PortMigrations = { port: 'metrics', migrations: { '0001_initial': createMetricsSamples } };
