import { sql, type Kysely } from 'kysely';
import type { JsonValue } from '../../json.ts';
import { fromJsonText, toJsonText, toNumber, type SqlFlavor } from '../../sql/dialect.ts';
import { migrate } from '../../sql/migrate.ts';
import { analysisMigrations, type AnalysisTables } from './analysis-schema.ts';
import { RESERVATION_LEASE_MS, type AnalysisStore, type ModelUsage, type UsageEntry } from './port.ts';

/**
 * The analysis store on the deployment's database: SQLite embedded, PostgreSQL distributed, so
 * the cache and the budgets are shared by every worker. The database belongs to whoever opened it.
 */
export { RESERVATION_LEASE_MS } from './port.ts';

export class SqlAnalysisStore implements AnalysisStore {
  readonly name: string;
  readonly #db: Kysely<AnalysisTables>;

  private constructor(db: Kysely<unknown>, flavor: SqlFlavor) {
    this.#db = db.withTables<AnalysisTables>();
    this.name = `${flavor}-analysis`;
  }

  /** Creates or migrates the tables (idempotent); `schema` is PostgreSQL's (see `migrate`). */
  static async open(db: Kysely<unknown>, flavor: SqlFlavor, schema?: string): Promise<SqlAnalysisStore> {
    await migrate(db, 'analysis', flavor, analysisMigrations, schema);
    return new SqlAnalysisStore(db, flavor);
  }

  async cached(key: string): Promise<JsonValue | undefined> {
    const row = await this.#db.selectFrom('analysis_cache').select('value').where('key', '=', key).executeTakeFirst();
    return row === undefined ? undefined : fromJsonText<JsonValue>(row.value);
  }

  async remember(key: string, value: JsonValue, about?: { tenantId: string; sha256: string }): Promise<void> {
    await this.#db
      .insertInto('analysis_cache')
      .values({ key, value: toJsonText(value), created_at: Date.now(), tenant_id: about?.tenantId ?? null, document_sha256: about?.sha256 ?? null })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }

  async forgetDocument(tenantId: string, sha256: string): Promise<void> {
    await this.#db.deleteFrom('analysis_cache').where('tenant_id', '=', tenantId).where('document_sha256', '=', sha256).execute();
  }

  async record(entry: UsageEntry): Promise<void> {
    await this.#db
      .insertInto('analysis_usage')
      .values({
        job_id: entry.jobId, tenant_id: entry.tenantId, model: entry.model,
        prompt_tokens: entry.promptTokens, completion_tokens: entry.completionTokens, calls: entry.calls, cached_calls: entry.cachedCalls,
      })
      .onConflict((oc) => oc.columns(['job_id', 'model']).doUpdateSet({
        prompt_tokens: sql`analysis_usage.prompt_tokens + excluded.prompt_tokens`,
        completion_tokens: sql`analysis_usage.completion_tokens + excluded.completion_tokens`,
        calls: sql`analysis_usage.calls + excluded.calls`,
        cached_calls: sql`analysis_usage.cached_calls + excluded.cached_calls`,
      }))
      .execute();
  }

  async reserve(jobId: string, tokens: number, budget: number, now = Date.now()): Promise<boolean> {
    await this.#db.insertInto('analysis_budgets').values({ job_id: jobId, spent: 0, reserved: 0 }).onConflict((oc) => oc.column('job_id').doNothing()).execute();
    // One conditional update: of workers racing for the last tokens, the database lets one win.
    // Reservations older than the lease (no reservation since) are of calls that never settled:
    // their process died. They count no more, so a resumed job is not refused its budget.
    const live = sql`case when reserved_until < ${now} then 0 else reserved end`;
    const result = await this.#db
      .updateTable('analysis_budgets')
      .set({ reserved: sql`${live} + ${tokens}`, reserved_until: now + RESERVATION_LEASE_MS, reserved_at: now })
      .where('job_id', '=', jobId)
      .where(sql<boolean>`spent + ${live} + ${tokens} <= ${budget}`)
      .executeTakeFirst();
    return toNumber(result.numUpdatedRows) === 1;
  }

  async lastReservation(jobId: string): Promise<number> {
    const row = await this.#db.selectFrom('analysis_budgets').select('reserved_at').where('job_id', '=', jobId).executeTakeFirst();
    return row === undefined ? 0 : toNumber(row.reserved_at);
  }

  async releaseReservations(): Promise<void> {
    await this.#db.updateTable('analysis_budgets').set({ reserved: 0 }).where('reserved', '>', 0).execute();
  }

  async settle(jobId: string, reserved: number, spent: number): Promise<void> {
    await this.#db
      .updateTable('analysis_budgets')
      .set({ reserved: sql`case when reserved > ${reserved} then reserved - ${reserved} else 0 end`, spent: sql`spent + ${spent}` })
      .where('job_id', '=', jobId)
      .execute();
  }

  async exhaust(jobId: string, tokens: number, budget: number): Promise<boolean> {
    await this.#db.insertInto('analysis_budgets').values({ job_id: jobId, spent: 0, reserved: 0 }).onConflict((oc) => oc.column('job_id').doNothing()).execute();
    const [updated] = await this.#db
      .updateTable('analysis_budgets')
      .set({ spent: sql`case when spent < ${budget} then ${budget} else spent end`, stopped_at: budget })
      .where('job_id', '=', jobId)
      .where(sql<boolean>`spent + ${tokens} > ${budget}`)
      .execute();
    return Number(updated?.numUpdatedRows ?? 0) > 0;
  }

  async budgetLeft(jobId: string, budget: number): Promise<number> {
    const row = await this.#db.selectFrom('analysis_budgets').select('spent').where('job_id', '=', jobId).executeTakeFirst();
    return Math.max(0, budget - (row === undefined ? 0 : toNumber(row.spent)));
  }

  async markStopped(jobId: string, budget: number): Promise<void> {
    await this.#db.insertInto('analysis_budgets').values({ job_id: jobId, spent: 0, reserved: 0 }).onConflict((oc) => oc.column('job_id').doNothing()).execute();
    await this.#db.updateTable('analysis_budgets').set({ stopped_at: budget }).where('job_id', '=', jobId).where('stopped_at', 'is', null).execute();
  }

  async budgetStop(jobId: string): Promise<{ maxTokens: number; ended: boolean } | undefined> {
    const row = await this.#db.selectFrom('analysis_budgets').select(['stopped_at', 'spent']).where('job_id', '=', jobId).executeTakeFirst();
    if (row?.stopped_at === null || row?.stopped_at === undefined) return undefined;
    const maxTokens = toNumber(row.stopped_at);
    return { maxTokens, ended: toNumber(row.spent) >= maxTokens };
  }

  async forgetHeldStop(jobId: string): Promise<void> {
    await this.#db.updateTable('analysis_budgets').set({ stopped_at: null }).where('job_id', '=', jobId).where(sql<boolean>`spent < stopped_at`).execute();
  }

  jobUsage(jobId: string): Promise<ModelUsage[]> {
    return this.#sums({ column: 'job_id', value: jobId });
  }

  tenantUsage(tenantId: string): Promise<ModelUsage[]> {
    return this.#sums({ column: 'tenant_id', value: tenantId });
  }

  totalUsage(): Promise<ModelUsage[]> {
    return this.#sums();
  }

  async #sums(filter?: { column: 'job_id' | 'tenant_id'; value: string }): Promise<ModelUsage[]> {
    const rows = await this.#db
      .selectFrom('analysis_usage')
      .select((eb) => [
        'model',
        eb.fn.sum<string | number>('prompt_tokens').as('prompt'),
        eb.fn.sum<string | number>('completion_tokens').as('completion'),
        eb.fn.sum<string | number>('calls').as('calls'),
        eb.fn.sum<string | number>('cached_calls').as('cached'),
      ])
      .$if(filter !== undefined, (query) => query.where(filter?.column ?? 'job_id', '=', filter?.value ?? ''))
      .groupBy('model')
      .orderBy('model')
      .execute();
    return rows.map((row) => ({
      model: row.model,
      promptTokens: toNumber(row.prompt),
      completionTokens: toNumber(row.completion),
      calls: toNumber(row.calls),
      cachedCalls: toNumber(row.cached),
    }));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
