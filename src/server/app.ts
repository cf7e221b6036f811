import { join } from 'node:path';
import multipart from '@fastify/multipart';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ReamError } from '../errors.ts';
import type { Ream } from '../runtime/create-ream.ts';
import { localCoordination, type Coordination } from './coordination.ts';
import { registerAuth, type AuthOptions, type RateLimitOptions } from './auth/plugin.ts';
import { registerCors, type CorsOptions } from './cors.ts';
import { isLoopbackHost, registerHostCheck } from './host-check.ts';
import { registerBodyDeadline } from './body-deadline.ts';
import { cutUnreadResponses } from './unread-responses.ts';
import { registerContentEncodingGuard } from './content-encoding.ts';
import { refuseUnknownQueryParameters } from './query-params.ts';
import { refuseUpgradesElsewhere } from './ws-upgrade-guard.ts';
import { limitConnections, type ConnectionLimitOptions } from './connection-limits.ts';
import { registerNulGuard } from './nul-guard.ts';
import { bodiesUncoerced } from './validators.ts';
import { MULTIPART_HEADER_BYTES } from './uploads/multipart-errors.ts';
import { metricsRoutes } from './metrics.ts';
import type { MetricsHistoryOptions } from './metrics-sampler.ts';
import { metricsHistoryRoutes } from './routes/metrics-history.ts';
import { openapi } from './openapi.ts';
import { PROBLEM_CONTENT_TYPE, answerClientError, sendProblem, toProblem } from './problem.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { documentPagesRoutes } from './routes/document-pages.ts';
import { downloadRoutes } from './routes/downloads.ts';
import { errorRoutes } from './routes/errors.ts';
import { pipelineRoutes } from './routes/pipelines.ts';
import { meRoutes } from './routes/me.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { jobEstimateRoutes } from './routes/job-estimate.ts';
import { jobDocumentRoutes } from './routes/job-documents.ts';
import { jobRoutes } from './routes/jobs.ts';
import { artifactRoutes } from './routes/artifacts.ts';
import { uiRoutes } from './routes/ui.ts';
import { pageImageRoutes } from './routes/page-images.ts';
import { tableOutlineRoutes } from './routes/table-outline.ts';
import { wsRoutes } from './routes/ws.ts';
import { downloadTicketRoutes } from './routes/download-tickets.ts';
import { withRedactedUrls } from './log-redaction.ts';
import { documentRoutes } from './routes/documents.ts';
import { uploadRoutes } from './uploads/tus.ts';
import type { TusStorage } from './uploads/storage.ts';
import { storeUploadRecords } from './uploads/records.ts';
import { searchRoutes } from './routes/search.ts';
import { selectProtocol } from './auth/ws-credentials.ts';
import { usageRoutes } from './routes/usage.ts';
import { auditRoutes } from './routes/audit.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { registerAudit } from './audit.ts';
import { registerTracing } from './tracing-hook.ts';
import { workerRoutes } from './routes/workers.ts';
import { queueRoutes } from './routes/queues.ts';

export interface ServerOptions {
  ream: Ream;
  /** Fastify's logger option (pino): `true`, options, or false / omitted for none. */
  logger?: FastifyServerOptions['logger'];
  /** Largest file part of an upload, in bytes. Default 1 GiB. */
  maxFileBytes?: number;
  /** Most file parts in one upload. Default 1000. */
  maxFiles?: number;
  /** SSE heartbeat comments and WebSocket pings, every this many ms. Default 15,000. */
  heartbeatMs?: number;
  /** Folder for tus uploads (partial files, upload records). Default `<dataDir>/uploads`. */
  uploadsDir?: string;
  /**
   * An unfinished tus upload of a tenant without a lifetime of its own expires this long after
   * creation, in ms. Default: the ream's `retention.uploadsHours` (24 h); per tenant: `retention.uploadTenants`.
   */
  uploadExpiryMs?: number;
  /** How often expired uploads are swept, in ms. Default 1 h. */
  uploadCleanupIntervalMs?: number;
  /** Default `{ mode: 'off' }`: every request is the `local` tenant (loopback hosts only). */
  auth?: AuthOptions;
  /** Per API key / JWT subject; none by default. */
  rateLimit?: RateLimitOptions;
  /** Web pages of these origins may call the API from a browser. Default: no cross-origin access. */
  cors?: CorsOptions;
  /**
   * The URL browsers reach the server at, if not a loopback one (a proxy or tunnel in front of a
   * server without auth). Without auth only requests to loopback names and this URL's host are
   * answered, and state-changing requests from a browser must come from one of these origins
   * (see `registerHostCheck`). Its path is the prefix a reverse proxy may serve the server under
   * (`https://example.com/ream/`): uploads' Locations are then relative, to stay under it. Default: none.
   */
  publicUrl?: string;
  /**
   * Where tus uploads live. Default: files under `uploadsDir` with in-memory locks (one server);
   * `startServer` over a distributed ream uses the deployment's bucket and Redis instead.
   */
  tusStorage?: TusStorage;
  /** What server instances agree on (rate limits, WebSocket and download tickets). Default: in memory, one server. */
  coordination?: Coordination;
  /** A download ticket (`POST /v1/download-tickets`) is good for this long, in ms. Default 60 s. */
  downloadTicketTtlMs?: number;
  /**
   * The metrics history this server samples into the store (`GET /v1/metrics/history`): interval
   * and ring size; `false` samples nothing. Default every 10 s, a day kept.
   */
  metricsHistory?: MetricsHistoryOptions | false;
  /** How long a JSON body may take to arrive before the connection is closed, in ms (default 30,000: body-deadline.ts). */
  jsonBodyDeadlineMs?: number;
  /** How long any body (an upload's too) may go without a byte before the connection is closed, in ms (default 60,000: body-deadline.ts). */
  bodyIdleMs?: number;
  /**
   * How long a download (a report, results, an export) may leave bytes unread with none taken
   * before its connection is closed, in ms (default 15,000: unread-responses.ts).
   */
  downloadStallMs?: number;
  /**
   * The least a download's client must take while bytes wait for it, in bytes per second over
   * each `downloadStallMs`, before its connection is closed: a reader that trickles (a byte now
   * and then, each before the stall bound) is cut too. Default 1024; 0: no minimum (unread-responses.ts).
   */
  downloadMinBytesPerSecond?: number;
  /**
   * Connections one client address may hold at once (default 256, loopback peers exempt: see
   * connection-limits.ts); headers must come within 20 s whatever this says.
   */
  connectionLimit?: ConnectionLimitOptions;
}

/** The v1 HTTP API (DESIGN.md §8) over an embedded {@link Ream}. Not listening yet: see {@link startServer}. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({
    // Tickets in query strings are credentials: the request log shows `ticket=[redacted]`.
    logger: withRedactedUrls(options.logger ?? false),
    // Refusals before routing (a bad percent-encoding, a parameter over maxParamLength) and by
    // Node's HTTP parser skip the error handler: they are problems too.
    frameworkErrors: (error, _request, reply) => {
      void sendProblem(reply, toProblem(error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? ReamError.nonRetryable('validation_failed', 'a path parameter is too long') : error));
    },
    clientErrorHandler: answerClientError,
    // A body field a schema does not name is refused (400), as the hand-checked routes refuse it,
    // rather than dropped without a word (ajv's default in Fastify).
    ajv: { customOptions: { removeAdditional: false } },
    // A JSON body's value of the wrong type is refused, not coerced (validators.ts).
    schemaController: { compilersFactory: { buildValidator: bodiesUncoerced() } },
    // Only a WebSocket upgrade is taken as one. Any other (h2c, which curl --http2 asks for) went
    // to the WebSocket library, which refused it (400, or 405 for a POST): it is the HTTP/1.1
    // request it also is, as RFC 9110 lets a server ignore an Upgrade. (A Node without this
    // option ignores it and answers those as before.)
    http: { shouldUpgradeCallback: (request) => request.headers.upgrade?.toLowerCase() === 'websocket' },
  });
  limitConnections(app.server, options.connectionLimit);
  // No route reads plain text: such a body is refused with 415, as other types are.
  app.removeContentTypeParser('text/plain');
  registerTracing(app); // first: every other hook and handler runs inside the request's span
  registerNulGuard(app);
  refuseUpgradesElsewhere(app);
  registerBodyDeadline(app, options.jsonBodyDeadlineMs, options.bodyIdleMs);
  // A download its client stopped reading, or reads a trickle of, does not hold its connection for ever.
  cutUnreadResponses(app, options.downloadStallMs, options.downloadMinBytesPerSecond);
  // headerSize: busboy's, passed through though @fastify/multipart's types do not name it: a part's
  // headers read whole, a long percent-encoded filename too (multipart-errors.ts).
  const multipartLimits = { fileSize: options.maxFileBytes ?? 1024 ** 3, files: options.maxFiles ?? 1000, fields: 100, fieldSize: 1024 * 1024, headerSize: MULTIPART_HEADER_BYTES };
  void app.register(multipart, { limits: multipartLimits });
  // A browser offers its token as a subprotocol: the answer names ream's protocol, never the token.
  void app.register(websocket, { options: { maxPayload: 64 * 1024, handleProtocols: (protocols) => selectProtocol(protocols) } });
  openapi(app); // before the routes: it documents the routes registered after it
  // Before CORS and auth: a request to a foreign name, or a cross-site one, is refused first.
  if ((options.auth?.mode ?? 'off') === 'off') {
    registerHostCheck(app, {
      ...(options.publicUrl === undefined ? {} : { publicUrl: checkPublicUrl(options.publicUrl) }),
      ...(options.cors === undefined ? {} : { corsOrigins: options.cors.origins }),
    });
  }
  registerCors(app, options.cors); // before auth: browsers send preflights without credentials
  // Rate limits: in memory for one server; `startServer` over a
  // distributed ream passes one in Redis, shared by every instance of the deployment.
  const coordination = options.coordination ?? localCoordination();
  registerAudit(app, options.ream); // before auth: its refusals are recorded too
  registerAuth(app, options.ream, options.auth ?? { mode: 'off' }, options.rateLimit, coordination);
  // After auth: an anonymous client learns nothing about a route from a 415 (authentication answers 401 first).
  registerContentEncodingGuard(app);
  refuseUnknownQueryParameters(app); // after auth too, for the same reason
  metricsRoutes(app, options.ream);

  app.setErrorHandler((error: unknown, request, reply) => {
    const problem = toProblem(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, toProblem(ReamError.nonRetryable('not_found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`))),
  );

  // Long-lived streams (SSE, NDJSON) end when the server closes, so close() does not wait on them.
  const shutdown = new AbortController();
  app.addHook('preClose', (done) => {
    shutdown.abort();
    done();
  });
  void app.register((scope, _opts, done) => {
    healthRoutes(scope, options.ream);
    uiRoutes(scope);
    eventRoutes(scope, options.ream, { heartbeatMs: options.heartbeatMs ?? 15_000, shutdown: shutdown.signal });
    wsRoutes(scope, options.ream, { coordination, heartbeatMs: options.heartbeatMs ?? 15_000, rateLimit: options.rateLimit });
    documentRoutes(scope, options.ream, { maxFileBytes: options.maxFileBytes ?? 1024 ** 3 });
    pageImageRoutes(scope, options.ream);
    tableOutlineRoutes(scope, options.ream);
    const findUpload = uploadRoutes(scope, options.ream, {
      dir: options.uploadsDir ?? join(options.ream.dataDir, 'uploads'),
      maxFileBytes: options.maxFileBytes ?? 1024 ** 3,
      ...(options.uploadExpiryMs === undefined ? {} : { expiryMs: options.uploadExpiryMs }),
      cleanupIntervalMs: options.uploadCleanupIntervalMs ?? 3600_000,
      ...(options.tusStorage === undefined ? {} : { storage: options.tusStorage }),
      ...(options.cors === undefined ? {} : { cors: options.cors }),
      ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
    });
    jobRoutes(scope, options.ream, shutdown.signal, findUpload, options.publicUrl);
    jobDocumentRoutes(scope, options.ream);
    artifactRoutes(scope, options.ream);
    workerRoutes(scope, options.ream);
    queueRoutes(scope, options.ream);
    documentPagesRoutes(scope, options.ream);
    downloadRoutes(scope, options.ream);
    downloadTicketRoutes(scope, options.ream, { coordination, ...(options.downloadTicketTtlMs === undefined ? {} : { ttlMs: options.downloadTicketTtlMs }) });
    errorRoutes(scope, options.ream);
    pipelineRoutes(scope, options.ream);
    meRoutes(scope);
    signInRoutes(scope, options.auth ?? { mode: 'off' });
    jobEstimateRoutes(scope, options.ream);
    metricsHistoryRoutes(scope, options.ream, options.metricsHistory);
    searchRoutes(scope, options.ream);
    usageRoutes(scope, options.ream);
    auditRoutes(scope, options.ream);
    tenantRoutes(scope, options.ream);
    done();
  });
  return app;
}

export { PROBLEM_CONTENT_TYPE, isLoopbackHost };

/** Throws `validation_failed` unless `url` is an http(s) URL; answers it. */
function checkPublicUrl(url: string): string {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw ReamError.nonRetryable('validation_failed', `public URL "${url}" must be an http(s) URL such as https://ream.example.com`);
  }
  return url;
}

/** Throws `validation_failed` for a host other machines could reach while auth is off. */
export function refuseNonLoopback(host: string, auth: AuthOptions = { mode: 'off' }): void {
  if (auth.mode === 'off' && !isLoopbackHost(host)) {
    throw ReamError.nonRetryable(
      'validation_failed',
      `auth is off: bind to 127.0.0.1 (or another loopback address), not ${host}, or turn auth on`,
    );
  }
}

export interface StartOptions extends ServerOptions {
  /** Default 127.0.0.1. Only loopback hosts are allowed while auth is off. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /**
   * How long `close()` lets requests in progress end, and WebSocket peers answer the closing
   * handshake, before it closes their connections. Default {@link CLOSE_GRACE_MS}.
   */
  closeGraceMs?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. `http://127.0.0.1:8080`. */
  url: string;
  close(): Promise<void>;
}

/**
 * What several instances of a distributed deployment share: uploads (bytes in the bucket, locks
 * and metadata in Redis) and coordination (rate limits) in Redis. Loaded only for a
 * distributed ream: the S3 and Redis clients cost an embedded server tens of MB.
 */
async function sharedAcrossInstances(options: StartOptions): Promise<{ tusStorage: TusStorage; coordination: Coordination }> {
  const deployment = options.ream.deployment;
  if (deployment === undefined) throw new ReamError('internal', 'not a distributed deployment');
  const prefix = deployment.prefix ?? 'ream';
  const { distributedTusStorage } = await import('./uploads/distributed-storage.ts');
  const { redisCoordination } = await import('./coordination-redis.ts');
  const tusStorage = options.tusStorage ?? await distributedTusStorage({
    s3: deployment.s3,
    redisUrl: deployment.redisUrl,
    prefix,
    // tus refuses nothing as expired before the longest lifetime; the sweep expires each tenant's at its own.
    expiryMs: options.ream.uploadExpiry(options.uploadExpiryMs).longestMs,
    records: storeUploadRecords(options.ream.uploads),
  });
  return { tusStorage, coordination: options.coordination ?? redisCoordination(deployment.redisUrl, prefix) };
}

/** Why the server could not listen, said as a setting to change (the port, the host) when it is one. */
function listenFailure(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return ReamError.nonRetryable('validation_failed', `port ${port} on ${host} is in use: choose another --port`, { cause: error });
  if (code === 'EACCES') return ReamError.nonRetryable('validation_failed', `no permission to listen on ${host}:${port} (ports below 1024 need privileges)`, { cause: error });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return ReamError.nonRetryable('validation_failed', `${host} is not an address of this machine: choose another --host`, { cause: error });
  return error;
}

/** How long `close()` lets requests in progress end before it closes their connections. */
const CLOSE_GRACE_MS = 10_000;

/** Builds the server and listens. Refuses non-loopback hosts while auth is off. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  refuseNonLoopback(host, options.auth);
  const shared: Partial<Awaited<ReturnType<typeof sharedAcrossInstances>>> = options.ream.deployment === undefined ? {} : await sharedAcrossInstances(options);
  const app = buildServer({ ...options, ...shared });
  app.addHook('onClose', async () => {
    if (shared.tusStorage !== undefined && options.tusStorage === undefined) await shared.tusStorage.close();
    if (shared.coordination !== undefined && options.coordination === undefined) await shared.coordination.close();
  });
  try {
    await app.listen({ host, port: options.port ?? 8080 });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw listenFailure(error, host, options.port ?? 8080);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 8080);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Where it listens is said at any level but silent: a server logging warnings only still says where it is.
  const announce = app.log.level === 'silent' ? app.log : app.log.child({}, { level: 'info' });
  if (options.auth?.mode === 'on') announce.info(`ream listening on ${url}; auth is on`);
  else announce.warn(`ream listening on ${url}; auth is off (loopback only)`);
  return {
    app,
    url,
    async close() {
      // Requests in progress may finish for a while; a client that holds its connection open
      // (a stalled upload) does not keep the process from stopping past that. Nor does a
      // WebSocket peer that never answers the closing handshake (gone without a word): the ws
      // library would wait 30 s for it, and upgraded sockets are no HTTP connections to close.
      const timer = setTimeout(() => {
        app.server.closeAllConnections();
        for (const client of app.websocketServer.clients) client.terminate();
      }, options.closeGraceMs ?? CLOSE_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
