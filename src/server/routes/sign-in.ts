import type { FastifyInstance } from 'fastify';
import { PUBLIC } from '../auth/access.ts';
import type { SignInView } from '../../api-types.ts';
import type { AuthOptions } from '../auth/plugin.ts';

export function signInView(auth: AuthOptions): SignInView {
  if (auth.mode === 'off') return { required: false, methods: [] };
  const jwt = auth.jwtSecret !== undefined || auth.jwks !== undefined || auth.jwksUrl !== undefined;
  if (!jwt) return { required: true, methods: ['api_key'] };
  return {
    required: true,
    methods: ['api_key', 'jwt'],
    jwt: { ...(auth.jwtIssuer === undefined ? {} : { issuer: auth.jwtIssuer }), ...(auth.jwtAudience === undefined ? {} : { audience: auth.jwtAudience }) },
  };
}

/**
 * `GET /v1/auth` (public): which credentials the server takes, and for JWTs the issuer they must
 * come from, so that a sign-in screen can say so before anyone has a key. Never a secret or key
 * location: the JWT secret and the JWKS are not named.
 */
export function signInRoutes(app: FastifyInstance, auth: AuthOptions): void {
  const view = signInView(auth);
  const schema = {
    summary: 'How to sign in: whether credentials are needed, which kinds, and the JWT issuer',
    response: {
      200: {
        type: 'object',
        required: ['required', 'methods'],
        properties: {
          required: { type: 'boolean' },
          methods: { type: 'array', items: { type: 'string', enum: ['api_key', 'jwt'] } },
          jwt: { type: 'object', properties: { issuer: { type: 'string' }, audience: { type: 'string' } } },
        },
      },
    },
  } as const;
  app.get('/v1/auth', { ...PUBLIC, schema }, () => view);
}
