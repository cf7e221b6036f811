import type { Kysely } from 'kysely';
import { ReamError } from '../errors.ts';
import { fromJsonText, toJsonText, toNumber } from '../sql/dialect.ts';
import type { MetricsSample, MetricsStore } from './metrics-store.ts';
import type { MetricsTables } from './metrics-schema.ts';

type Counts = Omit<MetricsSample, 'at' | 'intervalMs'>;

/** The metrics port in dialect-neutral Kysely (SQLite and PostgreSQL). The table must exist (`metricsMigrations`). */
export function sqlMetricsStore(kysely: Kysely<unknown>): MetricsStore {
  const db = kysely.withTables<MetricsTables>();
  return {
    async putMetricsSample(sample, capacity) {
      const { at, intervalMs, ...counts } = sample;
      if (!Number.isSafeInteger(capacity) || capacity < 1) throw ReamError.nonRetryable('validation_failed', `capacity must be a positive integer, got ${capacity}`);
      if (!Number.isSafeInteger(intervalMs) || intervalMs < 1 || at % intervalMs !== 0) {
        throw ReamError.nonRetryable('validation_failed', `a sample starts at a multiple of its interval (at ${at}, interval ${intervalMs} ms)`);
      }
      const slot = Math.floor(at / intervalMs) % capacity;
      // The slot's row is replaced only by a later interval: a second server's sample of the
      // same interval, or a late one, changes nothing (first writer wins).
      const result = await db
        .insertInto('metrics_samples')
        .values({ slot, at, interval_ms: intervalMs, counts: toJsonText(counts) })
        .onConflict((oc) =>
          oc
            .column('slot')
            .doUpdateSet((eb) => ({ at: eb.ref('excluded.at'), interval_ms: eb.ref('excluded.interval_ms'), counts: eb.ref('excluded.counts') }))
            .where('metrics_samples.at', '<', at),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    async listMetricsSamples(since) {
      const rows = await db.selectFrom('metrics_samples').selectAll().where('at', '>=', since).orderBy('at').execute();
      return rows.map((row) => ({ at: toNumber(row.at), intervalMs: toNumber(row.interval_ms), ...fromJsonText<Counts>(row.counts) }));
    },
  };
}
