import type { FastifyRequest, FastifyServerOptions } from 'fastify';

type LoggerOption = FastifyServerOptions['logger'];

/** `url` with the value of every `ticket` query parameter replaced: a logged ticket must not be usable. */
export function redactTickets(url: string): string {
  return url.replace(/([?&]ticket=)[^&#]*/gi, '$1[redacted]');
}

/** Fastify's own request serializer, with the URL redacted. */
function requestForLog(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactTickets(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
  };
}

/**
 * Fastify's `logger` option with a request serializer that redacts tickets (WebSocket and
 * download tickets travel in query strings). `false` stays false; a caller's own `req`
 * serializer still runs, on the redacted request URL's copy.
 */
export function withRedactedUrls(logger: LoggerOption): LoggerOption {
  if (logger === false || logger === undefined) return false;
  const options = logger === true ? {} : logger;
  const own = (options.serializers as { req?: (value: unknown) => unknown } | undefined)?.req;
  const req = own === undefined ? requestForLog : (request: FastifyRequest) => ({ ...(own(request) as object), url: redactTickets(request.url) });
  return { ...options, serializers: { ...options.serializers, req } };
}
