import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ClienteleError } from '../../core/errors.js';

/** Every header a caller's credential can arrive in, native or dialect. */
const credentialHeaders = ['authorization', 'x-api-key', 'x-yotpo-token', 'x-app-token'];
const unlimited = ['/healthz', '/readyz', '/metrics', '/docs', '/openapi.json'];

/**
 * One bucket per credential (hashed: a key never sits in memory in the clear longer
 * than the request), so a noisy key never starves another; callers without one share a
 * bucket per address.
 */
function bucketOf(request: FastifyRequest): string {
  for (const name of credentialHeaders) {
    const value = request.headers[name];
    if (typeof value === 'string' && value !== '')
      return `c:${createHash('sha256').update(value).digest('hex')}`;
  }
  const token = (request.query as { access_token?: unknown } | undefined)?.access_token;
  if (typeof token === 'string') return `c:${createHash('sha256').update(token).digest('hex')}`;
  return `ip:${request.ip}`;
}

/** Requests per second per credential, answered past the limit with 429 and Retry-After. */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, { perSecond }: { perSecond: number }) => {
    if (perSecond <= 0) return;
    await app.register(rateLimit, {
      global: true,
      max: perSecond,
      timeWindow: 1000,
      enableDraftSpec: true,
      keyGenerator: bucketOf,
      allowList: (request) => unlimited.some((path) => request.url.startsWith(path)),
      errorResponseBuilder: (_request, context) =>
        new ClienteleError(
          'rate_limited',
          `Rate limit of ${context.max} requests per second exceeded; retry after ${Math.ceil(context.ttl / 1000)} s.`,
        ),
    });
  },
);
