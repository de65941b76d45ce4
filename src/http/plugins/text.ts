import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { fail } from '../../core/errors.js';
import { findBadText } from '../../core/text.js';

/** Each part of a request, and how an error names a place in it. */
const parts = [
  ['headers', '/header'],
  ['params', '/path'],
  ['query', '/query'],
  ['body', ''],
] as const satisfies readonly (readonly [keyof FastifyRequest, string])[];

/**
 * Every route, native and dialect, refuses unstorable text in its headers, path,
 * query string and body with a 400 naming the field, before validation and before
 * any credential is looked up.
 */
export const textPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('preValidation', (request, _reply, done) => {
    for (const [part, base] of parts) {
      const problem = findBadText(request[part], base);
      if (problem) return done(fail.validation([problem]));
    }
    done();
  });
});
