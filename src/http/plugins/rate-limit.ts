import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Clientele } from '../../core/clientele.js';
import { ClienteleError } from '../../core/errors.js';
import { secretsEqual } from '../../core/stores/api-keys.js';
import { presentedSecrets } from './auth.js';
import { WindowStore } from './rate-limit-store.js';

const unlimited = ['/healthz', '/readyz', '/metrics', '/docs', '/openapi.json'];

export interface RateLimitOptions {
  clientele: Clientele;
  adminToken: string | undefined;
  perSecond: number;
}

/**
 * The bucket a request counts in: the key it authenticates as, however the credential
 * is written (any header a dialect reads, any spelling of `Bearer`; an access token
 * counts as the key it was exchanged for), so one key has one limit; the admin token's
 * own; and for a request with no valid credential, its client address, so that junk
 * credentials are limited like none. A bucket is named by the key's id, never by a
 * secret. If the database cannot say, the address: the request then fails on its own.
 */
export function bucketFor(clientele: Clientele, adminToken: string | undefined) {
  return async (request: FastifyRequest): Promise<string> => {
    let secrets: string[];
    try {
      secrets = presentedSecrets(request);
    } catch {
      // A credential that is no text at all: the request is refused on its own.
      return `ip:${request.ip}`;
    }
    for (const secret of secrets) {
      if (adminToken !== undefined && secretsEqual(secret, adminToken)) return 'admin';
      try {
        const caller = await clientele.keys.identify(secret);
        if (caller) return `key:${caller.keyId}`;
      } catch {
        break;
      }
    }
    return `ip:${request.ip}`;
  };
}

/** Requests per second per credential, answered past the limit with 429 and Retry-After. */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, { clientele, adminToken, perSecond }: RateLimitOptions) => {
    if (perSecond <= 0) return;
    await app.register(rateLimit, {
      global: true,
      max: perSecond,
      timeWindow: 1000,
      enableDraftSpec: true,
      keyGenerator: bucketFor(clientele, adminToken),
      store: WindowStore,
      allowList: (request) => unlimited.some((path) => request.url.startsWith(path)),
      errorResponseBuilder: (_request, context) =>
        new ClienteleError(
          'rate_limited',
          `Rate limit of ${context.max} requests per second exceeded; retry after ${Math.ceil(context.ttl / 1000)} s.`,
        ),
    });
  },
);
