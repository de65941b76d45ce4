import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Clientele } from '../../core/clientele.js';
import { fail } from '../../core/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while a request holds an Idempotency-Key, to store its response. */
    idempotency?: { scope: string; key: string };
  }
}

const writeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A pre-handler for write routes, to run once the caller is known: with an
 * Idempotency-Key header, a retry of a finished request gets its response again.
 * `scope` names whose keys these are (the store, or `admin`).
 */
export function idempotencyGuard(
  clientele: Clientele,
  scopeOf: (request: FastifyRequest) => string,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = request.headers['idempotency-key'];
    if (raw === undefined || !writeMethods.has(request.method)) return;
    const key = (Array.isArray(raw) ? raw[0] : raw) ?? '';
    if (key.length === 0 || key.length > 255) {
      throw fail.field('/header/idempotency-key', 'must be 1 to 255 characters');
    }
    const scope = scopeOf(request);
    const hash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest('hex');
    const claim = await clientele.idempotency.claim(scope, key, hash);
    if (claim.kind === 'replay') {
      const { status, contentType, body } = claim.response;
      reply.header('Idempotent-Replayed', 'true');
      if (contentType) reply.type(contentType);
      return reply.code(status).send(body);
    }
    request.idempotency = { scope, key };
  };
}

/**
 * Secrets are shown once and stored only hashed, so a stored response keeps none: a
 * replay of a request that created a key answers with `apiKey: null`.
 */
function withoutSecrets(body: string): string {
  return body.replace(/"(apiKey|access_token)":"[^"]*"/g, '"$1":null');
}

function contentTypeOf(reply: FastifyReply): string | null {
  const type = reply.getHeader('content-type');
  return typeof type === 'string' ? type : null;
}

/** Stores each held key's final response (a 5xx releases the key instead, so a retry runs). */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, { clientele }: { clientele: Clientele }) => {
    // A callback hook, so that the requests holding no key (nearly all) cost no promise.
    app.addHook('onSend', (request, reply, payload, done) => {
      const held = request.idempotency;
      if (!held) return done(null, payload);
      request.idempotency = undefined;
      const stored =
        reply.statusCode >= 500
          ? clientele.idempotency.release(held.scope, held.key)
          : clientele.idempotency.complete(held.scope, held.key, {
              status: reply.statusCode,
              contentType: contentTypeOf(reply),
              body: withoutSecrets(typeof payload === 'string' ? payload : String(payload ?? '')),
            });
      stored.then(
        () => done(null, payload),
        (error: Error) => done(error),
      );
    });
  },
);
