import type { FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import { DEFAULT_TENANT, type ApiKeyRole } from '../../store/port.ts';

/** Who a request acts as: its tenant scopes every job, document and upload it can see. */
export interface Principal {
  tenantId: string;
  role: ApiKeyRole;
  /** The API key id, or `jwt:<sub>`; `local` when auth is off. Rate limits are per subject. */
  subject: string;
}

/** With auth off (loopback only) every request acts as the embedded default tenant. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ tenantId: DEFAULT_TENANT, role: 'user', subject: 'local' });

const principals = new WeakMap<object, Principal>();

export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  principals.set(request.raw, principal);
}

/** The request's principal (set by the auth hook); {@link LOCAL_PRINCIPAL} when auth is off. */
export function principalOf(request: FastifyRequest): Principal {
  return principals.get(request.raw) ?? LOCAL_PRINCIPAL;
}

/** True if `principal` may see a record of `tenantId`: its own tenant, or any as admin. */
export function canSee(principal: Principal, tenantId: string): boolean {
  return principal.role === 'admin' || principal.tenantId === tenantId;
}

export function notFound(what: string, id: string): ReamError {
  return ReamError.nonRetryable('not_found', `no ${what} ${id}`);
}
