import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ZipFile } from 'yazl';
import { ReamError } from '../../errors.ts';
import type { Artifact } from '../../reports/artifacts.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { attachment } from '../attachment.ts';
import { principalOf } from '../auth/principal.ts';
import { TENANT as TENANT_ACCESS } from '../auth/access.ts';
import { jobIdParams, pageOf, problemResponses } from '../openapi.ts';
import { parseRange } from './byte-range.ts';
import { requireJob } from './jobs.ts';
import { REPORT_CONTENT_SECURITY_POLICY } from './report-frame.ts';

const artifactSchema = {
  type: 'object',
  required: ['name', 'size', 'mediaType', 'documentId', 'row'],
  properties: {
    name: { type: 'string', description: 'Unique in the job, e.g. INV-001.pdf' },
    size: { type: 'integer', description: 'Bytes' },
    mediaType: { type: 'string' },
    sha256: { type: 'string' },
    documentId: { type: 'string', description: 'The document (table) it was rendered from' },
    row: { type: 'integer', description: 'The 1-based data row it was rendered from; 0 for a report of a whole document' },
  },
} as const;

/** A page of the list: a job may make tens of thousands of files. */
const ARTIFACTS_PAGE = { default: 100, max: 1000 } as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    documentId: { type: 'string', description: 'Only the files made from this document' },
    row: { type: 'string', pattern: '^[0-9]{1,9}$', description: 'Only the files of this data row (0: reports of a whole document)' },
    limit: { type: 'string', pattern: '^[0-9]{1,9}$', description: `Page size, 1 to ${ARTIFACTS_PAGE.max} (default ${ARTIFACTS_PAGE.default})` },
    cursor: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page (with the same documentId and row): the list goes on after its last file, files of documents ended meanwhile included' },
  },
} as const;

interface ListQuery {
  documentId?: string;
  row?: string;
  limit?: string;
  cursor?: string;
}

function pageLimit(value: string | undefined): number {
  if (value === undefined) return ARTIFACTS_PAGE.default;
  const limit = Number(value);
  if (limit < 1 || limit > ARTIFACTS_PAGE.max) throw ReamError.nonRetryable('validation_failed', `limit must be an integer from 1 to ${ARTIFACTS_PAGE.max}`);
  return limit;
}

/** Browsers open a file with a single-use ticket instead of Authorization (POST /v1/download-tickets). */
const ticketQuery = {
  type: 'object',
  properties: { ticket: { type: 'string', description: 'A single-use ticket from POST /v1/download-tickets, instead of Authorization' } },
} as const;

async function findArtifact(ream: Ream, jobId: string, name: string): Promise<Artifact> {
  const artifact = await ream.artifact(jobId, name);
  if (!artifact) throw ReamError.nonRetryable('not_found', `job ${jobId} has no file ${JSON.stringify(name)}`);
  return artifact;
}

/** Every file of the job, read a page at a time (a job may make tens of thousands). */
async function* allArtifacts(ream: Ream, jobId: string): AsyncGenerator<Artifact> {
  let after: number | undefined;
  for (;;) {
    const page = await ream.artifacts(jobId, { ...(after === undefined ? {} : { after }), limit: ARTIFACTS_PAGE.max });
    yield* page;
    if (page.length < ARTIFACTS_PAGE.max) return;
    after = page.at(-1)?.seq;
  }
}

/**
 * The files a job made (rendered reports): the list, one file (with Range), and all of them as
 * one zip, streamed as it is made. Tenant-scoped: another tenant's job is a 404.
 */
export function artifactRoutes(app: FastifyInstance, ream: Ream): void {
  app.get<{ Params: { id: string }; Querystring: ListQuery }>(
    '/v1/jobs/:id/artifacts',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'The files the job made (reports rendered per row), of its ended documents, in the order those ended (each one\'s in row order); a page at a time, of one document or row if asked',
        params: jobIdParams,
        querystring: listQuery,
        response: {
          200: pageOf(artifactSchema),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      const { documentId, row, cursor } = request.query;
      const limit = pageLimit(request.query.limit);
      // The cursor is the `seq` of the last file of the previous page: a file recorded meanwhile
      // comes after it, so a running job's pages neither skip nor repeat one.
      const after = cursor === undefined ? undefined : Number(cursor);
      // One more than asked tells whether another page follows.
      const items = await ream.artifacts(job.id, { ...(documentId === undefined ? {} : { documentId }), ...(row === undefined ? {} : { row: Number(row) }), ...(after === undefined ? {} : { after }), limit: limit + 1 });
      const page = items.slice(0, limit);
      return { items: page, nextCursor: items.length > limit ? String(page.at(-1)?.seq) : null };
    },
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/v1/jobs/:id/artifacts/:name',
    {
      ...TENANT_ACCESS,
      schema: {
        summary: 'One file the job made; a single `Range: bytes=…` answers 206 with that part',
        params: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
        querystring: ticketQuery,
        produces: ['application/pdf', 'text/html', 'application/octet-stream'],
        response: problemResponses,
      },
    },
    async (request, reply) => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      const artifact = await findArtifact(ream, job.id, request.params.name);
      const range = parseRange(request.headers.range, artifact.size);
      reply.header('accept-ranges', 'bytes').header('content-disposition', attachment(artifact.name)).header('etag', `"${artifact.sha256}"`);
      // A report is the tenant's content: never rendered as a page of this origin (sandbox: an
      // opaque origin, no script), never framed; an HTML report keeps its own styles and data: images.
      const policy = artifact.mediaType.startsWith('text/html') ? `${REPORT_CONTENT_SECURITY_POLICY}; sandbox` : "default-src 'none'; sandbox";
      reply.header('content-security-policy', `${policy}; frame-ancestors 'none'`).header('x-frame-options', 'DENY').header('x-content-type-options', 'nosniff');
      if (range.kind === 'unsatisfiable') {
        return reply.code(416).header('content-range', `bytes */${artifact.size}`).type('application/problem+json').send({
          type: 'about:blank', title: 'Range Not Satisfiable', status: 416, code: 'validation_failed', detail: `the file has ${artifact.size} bytes`,
        });
      }
      reply.type(artifact.mediaType);
      if (range.kind === 'whole') return reply.header('content-length', artifact.size).send(await ream.artifactBytes(artifact));
      const { start, end } = range.range;
      return reply.code(206).header('content-range', `bytes ${start}-${end}/${artifact.size}`).header('content-length', end - start + 1).send(await ream.artifactBytes(artifact, range.range));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id/artifacts.zip',
    {
      ...TENANT_ACCESS,
      schema: { summary: 'Every file the job made, as one zip streamed while it is made', params: jobIdParams, querystring: ticketQuery, produces: ['application/zip'], response: problemResponses },
    },
    async (request, reply) => {
      const job = await requireJob(ream, request.params.id, principalOf(request));
      const zip = new ZipFile();
      for await (const artifact of allArtifacts(ream, job.id)) {
        // Opened one at a time as the zip reaches it: a job of 10,000 reports holds one blob stream.
        zip.addReadStreamLazy(artifact.name, { size: artifact.size, compress: !artifact.mediaType.startsWith('application/pdf') }, (done) => {
          ream.artifactBytes(artifact).then((stream) => done(null, stream), (error: unknown) => done(error, new PassThrough()));
        });
      }
      zip.end();
      const body = new PassThrough();
      zip.outputStream.on('error', (error: Error) => body.destroy(error)).pipe(body);
      return reply.type('application/zip').header('content-disposition', attachment(`${job.id}-artifacts.zip`)).send(body);
    },
  );
}
