import { sql, type Kysely, type Selectable } from 'kysely';
import { ReamError } from '../errors.ts';
import type { EventType, NewEvent, ReamEvent } from '../events/types.ts';
import { clampLimit, fromJsonText, toJsonText, toNumber } from '../sql/dialect.ts';
import { prepareQuery } from '../sql/prepared-query.ts';
import type { EventStore } from './event-store.ts';
import { FAILURE_EVENT_TYPES, type EventTables, type EventsTable } from './events-schema.ts';
import type { JobDocumentTables } from './job-documents-schema.ts';
import { UNFINISHED_DOCUMENT_STATUSES, type JobCounts } from './job-document-store.ts';
import { jobCountsReader } from './sql-job-counts.ts';

const DEFAULT_EVENTS = 1_000;
const MAX_EVENTS = 10_000;

/** The columns an event keeps outside `data`. */
type EventColumns = 'seq' | 'type' | 'jobId' | 'tenantId' | 'at';
type EventData = Omit<ReamEvent, EventColumns>;

function eventFromRow(row: Selectable<EventsTable>): ReamEvent {
  return {
    seq: toNumber(row.seq),
    type: row.type as ReamEvent['type'],
    jobId: row.job_id,
    tenantId: row.tenant_id,
    at: toNumber(row.at),
    ...fromJsonText<EventData>(row.data),
  };
}

/**
 * The event port in dialect-neutral Kysely (SQLite and PostgreSQL). Safe with many processes:
 * an append takes the job row's lock to bump its counter. The table must exist (`eventMigrations`).
 */
export function sqlEventStore(kysely: Kysely<unknown>): EventStore {
  const db = kysely.withTables<EventTables & JobDocumentTables>();
  const countJob = jobCountsReader(kysely.withTables<JobDocumentTables>());
  // Two statements per event, several events per document (see prepared-query.ts). A job under
  // deletion (`deleting_at`) takes no more: a task still running stored events past the deletion's
  // batches of them, to be listed (failures) until the job row went.
  const nextSeq = prepareQuery(db, 1, (db, jobId: string) =>
    db.updateTable('jobs').set({ event_seq: sql<number>`event_seq + 1` }).where('id', '=', jobId).where('deleting_at', 'is', null).returning('event_seq'));
  const insertEvent = prepareQuery(db, 6, (db, jobId: string, seq: number, tenantId: string, type: EventType, at: number, data: string) =>
    db.insertInto('events').values({ job_id: jobId, seq, tenant_id: tenantId, type, at, data }));
  type Trx = Parameters<Parameters<ReturnType<typeof db.transaction>['execute']>[0]>[0];
  const append = async (trx: Trx, jobId: string, made: NewEvent | ((counts: JobCounts) => NewEvent)): Promise<ReamEvent> => {
    // "seq is per job and gapless": the job row's counter is bumped in the same transaction as
    // the insert, so a rollback returns the number. The row update also serialises concurrent
    // appends to one job (a row lock in PostgreSQL, the single connection in SQLite).
    const counter = await nextSeq.takeFirst([jobId], trx);
    if (!counter) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    const seq = toNumber(counter.event_seq);
    // Counted under that lock: every earlier append to the job has committed. (The transaction is
    // typed with the events' tables too, which Kysely's types do not let narrow to the counts'.)
    const event = typeof made === 'function' ? made(await countJob(jobId, trx as unknown as Kysely<JobDocumentTables>)) : made;
    const { type, jobId: _job, tenantId, at, ...rest } = event; // the job is `jobId`, whose row is locked
    const data: EventData = rest;
    await insertEvent.execute([jobId, seq, tenantId, type, at, toJsonText(data)], trx);
    return { seq, type, jobId, tenantId, at, ...data };
  };
  return {
    async appendEvent(event) {
      return db.transaction().execute((trx) => append(trx, event.jobId, event));
    },

    async appendDocumentEnd(end, event) {
      return db.transaction().execute(async (trx) => {
        const ended = await trx.updateTable('job_documents')
          .set({
            status: end.status, finished_at: end.finishedAt,
            ...(end.error === undefined ? {} : { error: end.error === null ? null : toJsonText(end.error) }),
          })
          .where('job_id', '=', end.jobId).where('document_id', '=', end.documentId)
          .where('status', 'in', [...(end.ifStatusIn ?? UNFINISHED_DOCUMENT_STATUSES)])
          .returning('document_id').executeTakeFirst();
        return ended ? append(trx, end.jobId, event) : undefined;
      });
    },

    async listEvents(jobId, afterSeq, limit) {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        .where('job_id', '=', jobId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(clampLimit(limit, DEFAULT_EVENTS, MAX_EVENTS))
        .execute();
      return rows.map(eventFromRow);
    },

    async hasDocumentEvent(jobId, type, documentId) {
      // The document's id is inside the event's JSON text; LIKE's wildcards in it (`_`) are escaped.
      const pattern = `%${JSON.stringify({ documentId }).slice(1, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const row = await db.selectFrom('events').select('seq')
        .where('job_id', '=', jobId).where('type', '=', type)
        .where(sql<boolean>`data like ${pattern} escape '\\'`)
        .limit(1).executeTakeFirst();
      return row !== undefined;
    },

    async hasChunkEvent(jobId, type, documentId, index) {
      // As hasDocumentEvent, and the chunk's index as the event's JSON writes it: a chunk (planChunks)
      // begins with its index, and the comma after it keeps chunk 1 from matching chunk 10.
      const escape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
      const documentPattern = `%${escape(JSON.stringify({ documentId }).slice(1, -1))}%`;
      const chunkPattern = `%${escape(`"chunk":{"index":${index},`)}%`;
      const row = await db.selectFrom('events').select('seq')
        .where('job_id', '=', jobId).where('type', '=', type)
        .where(sql<boolean>`data like ${documentPattern} escape '\\'`)
        .where(sql<boolean>`data like ${chunkPattern} escape '\\'`)
        .limit(1).executeTakeFirst();
      return row !== undefined;
    },

    async listFailureEvents({ tenantId, since, limit }) {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        // The same terms as the partial indexes' (events-schema.ts), so that the planner uses them.
        .where('type', 'in', [...FAILURE_EVENT_TYPES])
        .$if(tenantId !== undefined, (qb) => qb.where('tenant_id', '=', tenantId ?? ''))
        .where('at', '>=', since)
        // Not those of a job under deletion: a deletion cut short among its events left them
        // sampled by the error groups, naming a job that is gone to every reader.
        .where((eb) => eb.not(eb.exists(eb.selectFrom('jobs').select('jobs.id').whereRef('jobs.id', '=', 'events.job_id').where('jobs.deleting_at', 'is not', null))))
        .orderBy('at', 'desc')
        .orderBy('job_id')
        .orderBy('seq', 'desc')
        .limit(clampLimit(limit, DEFAULT_EVENTS, MAX_EVENTS))
        .execute();
      return rows.map(eventFromRow);
    },
  };
}
