import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ReamError } from '../errors.ts';

/** The query parameters each route's schema names, by its schema (routes share a few). */
const takenBySchema = new WeakMap<object, readonly string[]>();
const NONE: readonly string[] = [];

function parametersOf(request: FastifyRequest): readonly string[] {
  const querystring = request.routeOptions.schema?.querystring;
  if (typeof querystring !== 'object' || querystring === null) return NONE;
  let names = takenBySchema.get(querystring);
  if (names === undefined) {
    const properties = (querystring as { properties?: unknown }).properties;
    names = typeof properties === 'object' && properties !== null ? Object.keys(properties) : NONE;
    takenBySchema.set(querystring, names);
  }
  return names;
}

/**
 * Refuses a v1 request with a query parameter its route does not take (400 `validation_failed`
 * naming it and those the route takes): `GET /v1/jobs?stauts=failed` listed every job, the typo
 * dropped without a word. A route's parameters are the properties of its querystring schema (the
 * ones the API description documents); a route without one takes none. After authentication
 * (registered after it): a client without credentials learns nothing of what a route takes.
 * Routes outside /v1 (probes, metrics, the console's files) are not concerned.
 */
export function refuseUnknownQueryParameters(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const query = request.query;
    if (request.is404 || request.routeOptions.url?.startsWith('/v1/') !== true || typeof query !== 'object' || query === null) {
      done();
      return;
    }
    const taken = parametersOf(request);
    const unknown = Object.keys(query).find((name) => !taken.includes(name));
    if (unknown === undefined) {
      done();
      return;
    }
    const route = `${request.method} ${request.routeOptions.url}`;
    done(ReamError.nonRetryable(
      'validation_failed',
      taken.length === 0
        ? `unknown query parameter "${unknown}": ${route} takes no query parameters`
        : `unknown query parameter "${unknown}": ${route} takes ${taken.join(', ')}`,
    ));
  });
}
