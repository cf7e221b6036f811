import { createHmac, createPublicKey, timingSafeEqual, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApiKeyRole } from '../../store/port.ts';

export interface JwtClaims {
  subject: string;
  tenantId: string;
  role: ApiKeyRole;
}

export interface JwtSettings {
  /** HS256 shared secret. */
  secret?: string;
  /** RS256 / ES256 public keys (from a JWKS). */
  keys?: ReadonlyArray<{ kid: string | undefined; alg: string | undefined; key: KeyObject }>;
}

/** Clock skew tolerated on `exp` / `nbf`, in seconds. */
const LEEWAY_S = 30;

/** Public keys of a JWKS document (a JSON file path, or the parsed document). Keys it cannot use are skipped. */
export function loadJwks(source: string | { keys: unknown[] }): NonNullable<JwtSettings['keys']> {
  const doc = typeof source === 'string' ? (JSON.parse(readFileSync(source, 'utf8')) as { keys?: unknown }) : source;
  if (!Array.isArray(doc.keys)) throw new Error('a JWKS needs a "keys" array');
  const keys: NonNullable<JwtSettings['keys']>[number][] = [];
  for (const jwk of doc.keys as Array<JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown }>) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
    try {
      const key = createPublicKey({ key: jwk, format: 'jwk' });
      keys.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key });
    } catch {
      // not a usable public key
    }
  }
  return keys;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function signatureOk(alg: string, kid: unknown, signed: string, signature: Buffer, settings: JwtSettings): boolean {
  if (alg === 'HS256') {
    if (settings.secret === undefined) return false;
    const expected = createHmac('sha256', settings.secret).update(signed).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  if (alg !== 'RS256' && alg !== 'ES256') return false;
  const kty = alg === 'RS256' ? 'rsa' : 'ec';
  const candidates = (settings.keys ?? []).filter(
    (k) => k.key.asymmetricKeyType === kty && (k.alg === undefined || k.alg === alg) && (kid === undefined || k.kid === undefined || k.kid === kid),
  );
  return candidates.some((k) => {
    try {
      return verify('sha256', Buffer.from(signed), alg === 'ES256' ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key, signature);
    } catch {
      return false;
    }
  });
}

/**
 * Verifies a compact JWS (HS256 with the shared secret, RS256/ES256 with the JWKS keys) and its
 * `exp` / `nbf`; returns `sub`, the tenant (`tenant` or `tid`) and `role` (`admin`, else user).
 * Any failure is undefined: the caller answers 401 without saying why.
 */
export function verifyJwt(token: string, settings: JwtSettings, nowMs: number = Date.now()): JwtClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  const payload = decodeJson(p);
  if (!header || !payload || typeof header.alg !== 'string') return undefined;
  if (!signatureOk(header.alg, header.kid, `${h}.${p}`, Buffer.from(s, 'base64url'), settings)) return undefined;
  const now = nowMs / 1000;
  const { exp, nbf, sub } = payload;
  if (exp !== undefined && (typeof exp !== 'number' || now > exp + LEEWAY_S)) return undefined;
  if (nbf !== undefined && (typeof nbf !== 'number' || now < nbf - LEEWAY_S)) return undefined;
  const tenant = payload.tenant ?? payload.tid;
  if (typeof sub !== 'string' || sub === '' || typeof tenant !== 'string' || tenant === '') return undefined;
  return { subject: sub, tenantId: tenant, role: payload.role === 'admin' ? 'admin' : 'user' };
}
