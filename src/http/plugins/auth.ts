import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clientele } from '../../core/clientele.js';
import { ClienteleError, fail } from '../../core/errors.js';
import { secretsEqual } from '../../core/stores/api-keys.js';
import type { Caller } from '../../core/stores/stores.repository.js';
import { checkText } from '../../core/text.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The store and key a store-API request was authenticated as. */
    caller: Caller;
  }
}

/** `Bearer <token>`, the scheme in any case, with any run of spaces or tabs around the token. */
const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = firstHeader(request, 'authorization');
  return header ? BEARER.exec(header.trim())?.[1] : undefined;
}

/**
 * HTTP Basic credentials (RFC 7617), as a platform that names its tenant and key so sends
 * them (Capillary: the store, then the key); the scheme in any case. What the header
 * encodes is checked as every request's text is.
 */
export function basicCredentials(request: FastifyRequest): { user?: string; password?: string } {
  const auth = firstHeader(request, 'authorization')?.trim();
  if (!auth || !/^basic[ \t]/i.test(auth)) return {};
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString();
  checkText(decoded, '/header/authorization');
  const colon = decoded.indexOf(':');
  if (colon < 0) return {};
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Every secret a request presents, wherever the native API or a dialect reads one: a
 * Bearer token, a Basic password, Cheqpay's `x-api-key`, Voucherify's `x-app-token`,
 * Yotpo's `x-yotpo-token` and `?access_token=`. Which of them is a valid credential is
 * for the caller to find out.
 */
export function presentedSecrets(request: FastifyRequest): string[] {
  const query = request.query as { access_token?: unknown } | undefined;
  const candidates = [
    bearerToken(request),
    basicCredentials(request).password,
    firstHeader(request, 'x-api-key'),
    firstHeader(request, 'x-app-token'),
    firstHeader(request, 'x-yotpo-token'),
    typeof query?.access_token === 'string' ? query.access_token : undefined,
  ];
  const secrets: string[] = [];
  for (const c of candidates) {
    const secret = c?.trim();
    if (secret && !secrets.includes(secret)) secrets.push(secret);
  }
  return secrets;
}

function firstHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Resolves a store key to its caller, or fails with 401. A key of one store used on
 * another store's path gets 404, exactly as for a store that does not exist.
 */
export async function authenticateStoreKey(
  clientele: Clientele,
  apiKey: string | undefined,
  storeId: string | undefined,
): Promise<Caller> {
  if (!apiKey) throw fail.unauthorized('Missing API key: send Authorization: Bearer ck_….');
  const caller = await clientele.keys.authenticate(apiKey);
  if (!caller) throw fail.unauthorized('Invalid or revoked API key.');
  if (storeId !== undefined && storeId !== caller.storeId) throw fail.storeNotVisible();
  return caller;
}

export function requireStoreKey(clientele: Clientele) {
  return async (
    request: FastifyRequest<{ Params: { storeId?: string } }>,
    _reply: FastifyReply,
  ) => {
    request.caller = await authenticateStoreKey(
      clientele,
      bearerToken(request),
      request.params.storeId,
    );
  };
}

export function requireAdmin(adminToken: string | undefined) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!adminToken) {
      throw new ClienteleError(
        'unauthorized',
        'The admin API is off: start Clientele with CLIENTELE_ADMIN_TOKEN set to enable it.',
      );
    }
    const token = bearerToken(request);
    if (!token || !secretsEqual(token, adminToken)) {
      throw fail.unauthorized(
        'Missing or invalid admin token: send Authorization: Bearer <CLIENTELE_ADMIN_TOKEN>.',
      );
    }
  };
}
