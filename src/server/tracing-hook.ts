import type { FastifyInstance } from 'fastify';
import { serverSpan } from '../tracing/spans.ts';

/**
 * A span per HTTP request (a no-op unless an OpenTelemetry SDK is registered: src/tracing/).
 * Registered first, so that every later hook and the handler run inside it; ended when the
 * response is done, on the raw response, since tus uploads answer there.
 */
export function registerTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown route';
    const end = serverSpan(`HTTP ${request.method} ${route}`, request.headers, { 'http.request.method': request.method, 'http.route': route }, done);
    reply.raw.once('close', () => end(reply.raw.statusCode));
  });
}
