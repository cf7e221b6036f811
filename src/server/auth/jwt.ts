import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { ReamError } from '../../errors.ts';
import type { ApiKeyRole } from '../../store/port.ts';

export interface JwtClaims {
  subject: string;
  tenantId: string;
  role: ApiKeyRole;
}

export interface JwtSettings {
  /** HS256 shared secret. */
  secret?: string;
  /** RS256 / ES256 public keys: a JWKS JSON file path, or the parsed document (read once, at start). */
  jwks?: string | { keys: unknown[] };
  /** RS256 / ES256 public keys fetched from this URL (cached; an unknown `kid` fetches again). */
  jwksUrl?: string;
  /** When set, the `iss` claim must equal it. */
  issuer?: string;
  /** When set, the `aud` claim must be (or contain) it. */
  audience?: string;
  /** A fetched JWKS is used this long before it is fetched again, in ms. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /**
   * After a fetch, a token with an unknown `kid` fetches again only once this long has passed, in ms
   * (so forged `kid`s cannot hammer the key server). Default 30 s.
   */
  jwksCooldownMs?: number;
  /**
   * A token must carry `exp` (default true): a token without one would be valid forever, so a
   * leaked one could never be shut out short of changing the key.
   */
  requireExp?: boolean;
  /** Told when the JWKS URL cannot be fetched or read (the token is refused meanwhile). */
  onKeySetError?: (error: unknown) => void;
  /** Told, in one line, why a token was refused (unparsable, bad signature, expired, …): for debugging. */
  onBadToken?: (reason: string) => void;
}

/** Verifies a bearer token: its claims, or undefined for any failure (the caller answers 401 without saying why). */
export type JwtVerifier = (token: string) => Promise<JwtClaims | undefined>;

/** Clock skew tolerated on `exp` / `nbf`, in seconds. */
const LEEWAY_S = 30;
const SECRET_ALGORITHMS = ['HS256'];
const KEY_ALGORITHMS = ['RS256', 'ES256'];
/** jose's code for "several keys of the set match the token's header" (no `kid` to pick one). */
const MULTIPLE_MATCHING_KEYS = 'ERR_JWKS_MULTIPLE_MATCHING_KEYS';
/** jose's codes for failures that say nothing about the token: the key set could not be had. */
const KEY_SET_FAILURES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

/** True for a failure to fetch or read the key set (a network error, a non-200, bad JSON), not a bad token. */
function isKeySetFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  // jose's own errors carry a code; an error without one comes from fetch (refused, reset, …).
  return typeof code === 'string' ? KEY_SET_FAILURES.has(code) : true;
}

/**
 * The signature keys of a JWKS document (a JSON file path, or the parsed document): RSA and EC
 * public keys not marked for another `use`. Keys it cannot use are skipped.
 */
export function loadJwks(source: string | { keys: unknown[] }): { keys: JWK[] } {
  const doc = typeof source === 'string' ? readJwksFile(source) : source;
  if (!Array.isArray(doc.keys)) throw ReamError.nonRetryable('validation_failed', 'a JWKS needs a "keys" array');
  const keys = (doc.keys as Array<JWK & JsonWebKey>).filter((jwk) => {
    if (typeof jwk !== 'object' || (jwk.use !== undefined && jwk.use !== 'sig') || (jwk.kty !== 'RSA' && jwk.kty !== 'EC')) return false;
    try {
      return createPublicKey({ key: jwk, format: 'jwk' }).type === 'public';
    } catch {
      return false; // not a usable public key
    }
  });
  return { keys };
}

/** A JWKS file, read and parsed; what is wrong with it is said with the file's name (`validation_failed`). */
function readJwksFile(path: string): { keys?: unknown } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw ReamError.nonRetryable('validation_failed', `cannot read the JWKS file ${path}: ${(error as Error).message}`);
  }
  try {
    const doc = JSON.parse(text) as unknown;
    return doc !== null && typeof doc === 'object' ? doc : {};
  } catch {
    throw ReamError.nonRetryable('validation_failed', `the JWKS file ${path} is not JSON`);
  }
}

function claimsOf(payload: JWTPayload): JwtClaims | undefined {
  const tenant = payload.tenant ?? payload.tid;
  const { sub } = payload;
  if (typeof sub !== 'string' || sub === '' || typeof tenant !== 'string' || tenant === '') return undefined;
  return { subject: sub, tenantId: tenant, role: payload.role === 'admin' ? 'admin' : 'user' };
}

/** The key set for RS256 / ES256 tokens: the remote one if configured, else the local one, else none. */
function keySetOf(settings: JwtSettings): JWTVerifyGetKey | undefined {
  if (settings.jwksUrl !== undefined) {
    return createRemoteJWKSet(new URL(settings.jwksUrl), {
      cacheMaxAge: settings.jwksCacheMaxAgeMs ?? 600_000,
      cooldownDuration: settings.jwksCooldownMs ?? 30_000,
    });
  }
  return settings.jwks === undefined ? undefined : createLocalJWKSet(loadJwks(settings.jwks));
}

/** Verifies with the key set; a token without `kid` that several keys could have signed is tried with each. */
async function verifyWithKeySet(token: string, keySet: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keySet, options)).payload;
  } catch (error) {
    if ((error as { code?: unknown }).code !== MULTIPLE_MATCHING_KEYS) throw error;
    for await (const key of error as AsyncIterable<CryptoKey>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch {
        // the next candidate may have signed it
      }
    }
    throw error;
  }
}

/**
 * A verifier of compact JWS tokens on `jose`: HS256 with the shared secret, RS256 / ES256 with a
 * JWKS (a file, or a URL fetched and cached), `exp` (required unless `requireExp` is false) and
 * `nbf` with {@link LEEWAY_S} of skew, and
 * `iss` / `aud` when configured. The token's `alg` picks the key: a secret is never tried on an
 * RS256 token nor a public key used as an HS256 secret. Claims map to `sub`, the tenant (`tenant`
 * or `tid`) and `role` (`admin`, else user). Undefined when nothing is configured.
 */
/** HS256 wants a key of 256 bits: a shorter secret can be guessed offline from one token. */
const MIN_SECRET_CHARS = 32;

export function createJwtVerifier(settings: JwtSettings): JwtVerifier | undefined {
  if (settings.secret !== undefined && settings.secret.length < MIN_SECRET_CHARS) {
    throw ReamError.nonRetryable('validation_failed', `the JWT secret must be at least ${MIN_SECRET_CHARS} characters (HS256 signs with 256 bits; a short secret can be guessed from one token)`);
  }
  const secret = settings.secret === undefined ? undefined : new TextEncoder().encode(settings.secret);
  const keySet = keySetOf(settings);
  if (!secret && !keySet) return undefined;
  const base: JWTVerifyOptions = {
    clockTolerance: LEEWAY_S,
    ...(settings.requireExp === false ? {} : { requiredClaims: ['exp'] }),
    ...(settings.issuer === undefined ? {} : { issuer: settings.issuer }),
    ...(settings.audience === undefined ? {} : { audience: settings.audience }),
  };
  const refuse = (reason: string): undefined => {
    settings.onBadToken?.(reason);
    return undefined;
  };
  return async (token) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return refuse('not a JWT'); // garbage is the client's problem: no stack, no key set involved
    }
    try {
      let payload: JWTPayload;
      if (secret && alg !== undefined && SECRET_ALGORITHMS.includes(alg)) {
        payload = (await jwtVerify(token, secret, { ...base, algorithms: SECRET_ALGORITHMS })).payload;
      } else if (keySet && alg !== undefined && KEY_ALGORITHMS.includes(alg)) {
        payload = await verifyWithKeySet(token, keySet, { ...base, algorithms: KEY_ALGORITHMS });
      } else return refuse(`algorithm ${String(alg).slice(0, 16)} is not accepted`);
      return claimsOf(payload) ?? refuse('no "sub" or tenant claim');
    } catch (error) {
      if (isKeySetFailure(error)) {
        settings.onKeySetError?.(error);
        return undefined;
      }
      return refuse(error instanceof Error ? error.message : String(error));
    }
  };
}
