import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DOWNLOAD_FORMATS, type DownloadFormat } from '../../api-types.ts';
import { ReamError } from '../../errors.ts';
import { CSV_FORMULA_MODES, type CsvFormulaMode } from '../../exports/csv-formulas.ts';
import { documentTable, jobTable, type ResultTable } from '../../exports/result-table.ts';
import { encodeTable, TABLE_MEDIA_TYPES, type TableFormat } from '../../exports/table-stream.ts';
import { fromJson } from '../../json.ts';
import type { DocumentOutput } from '../../pipeline/types.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { attachment } from '../attachment.ts';
import { TENANT } from '../auth/access.ts';
import { principalOf } from '../auth/principal.ts';
import { problemResponses } from '../openapi.ts';
import { requireJob } from './jobs.ts';
import { JOB_DOCUMENT_PARAMS } from './job-document-params.ts';


const JSON_TYPE = 'application/json; charset=utf-8';
const NDJSON_TYPE = 'application/x-ndjson; charset=utf-8';

const formatQuery = {
  type: 'object',
  properties: {
    format: {
      type: 'string',
      enum: DOWNLOAD_FORMATS,
      description: 'json and ndjson: the full results (every field with its page and quote); csv and xlsx: one row per page (a table\'s row) with a column per field. Default json.',
    },
    formulas: {
      type: 'string',
      enum: CSV_FORMULA_MODES,
      description: 'csv only. escape (default): a text cell starting with =, +, -, @, tab or carriage return (and not a plain number) is written with a leading \' so spreadsheets do not run it as a formula; keep: cells as they are',
    },
    ticket: { type: 'string', description: 'A single-use ticket from POST /v1/download-tickets, instead of Authorization (browser downloads)' },
  },
} as const;

interface DownloadQuery {
  format?: DownloadFormat;
  formulas?: CsvFormulaMode;
}

const produces = [JSON_TYPE, NDJSON_TYPE, TABLE_MEDIA_TYPES.csv, TABLE_MEDIA_TYPES.xlsx].map((type) => type.replace(/;.*/, ''));

/** A file name from a document's source: its last path part, with the format's extension. */
function fileName(source: string, format: DownloadFormat): string {
  const base = source.split(/[\\/]/).pop()?.replace(/\.[^.]*$/, '') ?? '';
  return `${base || 'document'}.${format}`;
}

function sendTable(reply: FastifyReply, table: ResultTable, format: TableFormat, name: string, formulas: CsvFormulaMode): FastifyReply {
  return reply.type(TABLE_MEDIA_TYPES[format]).header('content-disposition', attachment(name)).send(encodeTable(table, format, { formulas }));
}

async function* jsonItems(outputs: AsyncIterable<DocumentOutput>): AsyncGenerator<string> {
  yield '{"items":[';
  let first = true;
  for await (const output of outputs) {
    yield `${first ? '' : ','}${JSON.stringify(output)}`;
    first = false;
  }
  yield ']}\n';
}

async function* ndjson(values: AsyncIterable<unknown>): AsyncGenerator<string> {
  for await (const value of values) yield `${JSON.stringify(value)}\n`;
}

interface DocumentParams {
  id: string;
  documentId: string;
}

/**
 * Results as files to save, streamed: the whole job's, or one document's, as JSON, NDJSON, CSV
 * or XLSX (`Content-Disposition: attachment`). What a job still running has finished so far;
 * `GET /v1/jobs/:id/results` (NDJSON) is the one that follows a job to its end.
 */
export function downloadRoutes(app: FastifyInstance, ream: Ream): void {
  const jobSchema = {
    summary: 'Download the results of the job\'s ended documents: JSON { items }, NDJSON (one result a line), CSV or XLSX (one row per page, led by the document)',
    params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, description: 'Job id' } } },
    querystring: formatQuery,
    produces,
    response: problemResponses,
  } as const;
  app.get<{ Params: { id: string }; Querystring: DownloadQuery }>('/v1/jobs/:id/download', { ...TENANT, schema: jobSchema }, async (request, reply) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    const format = request.query.format ?? 'json';
    const name = `job-${job.id}.${format}`;
    if (format === 'csv' || format === 'xlsx') {
      const table = await jobTable({ outputs: () => ream.results(job.id), pages: (documentId) => ream.documentPages(job.id, documentId) });
      return sendTable(reply, table, format, name, request.query.formulas ?? 'escape');
    }
    const body = format === 'json' ? jsonItems(ream.results(job.id)) : ndjson(ream.results(job.id));
    return reply.type(format === 'json' ? JSON_TYPE : NDJSON_TYPE).header('content-disposition', attachment(name)).send(Readable.from(body));
  });

  const documentSchema = {
    summary: 'Download one ended document\'s result: JSON (its result), NDJSON (its pages, a table\'s rows, one a line), CSV or XLSX (one row per page)',
    params: JOB_DOCUMENT_PARAMS,
    querystring: formatQuery,
    produces,
    response: problemResponses,
  } as const;
  app.get<{ Params: DocumentParams; Querystring: DownloadQuery }>('/v1/jobs/:id/documents/:documentId/download', { ...TENANT, schema: documentSchema }, async (request, reply) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    const { documentId } = request.params;
    const format = request.query.format ?? 'json';
    if (!(await ream.jobDocument(job.id, documentId))) throw ReamError.nonRetryable('not_found', `job ${job.id} has no document ${documentId}`);
    const result = await ream.documentResult(job.id, documentId);
    if (!result) throw ReamError.nonRetryable('not_found', `document ${documentId} of job ${job.id} has not ended: no result yet`);
    const output = fromJson<DocumentOutput>(result.output);
    const name = fileName(output.source, format);
    if (format === 'csv' || format === 'xlsx') {
      return sendTable(reply, documentTable(output, ream.documentPages(job.id, documentId)), format, name, request.query.formulas ?? 'escape');
    }
    reply.header('content-disposition', attachment(name));
    if (format === 'json') return reply.type(JSON_TYPE).send(output);
    return reply.type(NDJSON_TYPE).send(Readable.from(ndjson(ream.documentPages(job.id, documentId))));
  });
}
