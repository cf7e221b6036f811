import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

/**
 * Who may call a route, declared on the route itself (`config: { access }`):
 * - `public`: anyone, no credentials (probes, the API description, the dashboard's files);
 * - `tenant`: any valid credentials; the handler scopes what it reads to the caller's tenant;
 * - `admin`: credentials of an admin.
 * Authorization reads the route the router matched, never the request's URL: the router decodes
 * the path (`/%6detrics` is `/metrics`), so comparing strings would let encodings slip through.
 */
export type RouteAccess = 'public' | 'tenant' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

export const PUBLIC = { config: { access: 'public' } } as const;
export const ADMIN = { config: { access: 'admin' } } as const;
export const TENANT = { config: { access: 'tenant' } } as const;

const ACCESS_LEVELS: ReadonlySet<unknown> = new Set<RouteAccess>(['public', 'tenant', 'admin']);

/**
 * The access of the route a request matched. A request no route matched (answered 404 by the
 * not-found handler) needs credentials like a tenant route: an anonymous client learns nothing
 * from probing paths, and a caller with credentials gets the 404.
 */
export function accessOf(request: FastifyRequest): RouteAccess {
  if (request.is404) return 'tenant';
  return request.routeOptions.config.access ?? 'tenant';
}

/**
 * Refuses, at start-up, any route registered after this call without a declared access: a new
 * route must say who may call it (a forgotten admin route must not quietly become a tenant one).
 * The one exception is a catch-all (`*`, @fastify/cors's OPTIONS route, which answers 404 to
 * anything but a preflight, and preflights are answered before authentication): it needs
 * credentials, like a path no route matches.
 */
export function requireDeclaredAccess(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const access = (route.config as { access?: unknown } | undefined)?.access;
    if (access === undefined && route.url === '*') {
      route.config = { ...route.config, access: 'tenant' };
      return;
    }
    if (!ACCESS_LEVELS.has(access)) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access (config: { access: 'public' | 'tenant' | 'admin' })`);
    }
  });
}
