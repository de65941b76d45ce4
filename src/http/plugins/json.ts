import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ClienteleError } from '../../core/errors.js';
import { checkJsonShape } from '../../core/json-shape.js';

/**
 * JSON bodies, parsed with the checks of core/json-shape.ts; anything unparsable is 400 malformed_json.
 * An empty body is no body, whatever its Content-Type says (clients such as Voucherify's
 * SDK send `Content-Type: application/json` on a DELETE without one). A body in any other
 * media type (text/plain included, which Fastify would otherwise hand over as a string)
 * is 415 unsupported_media_type.
 */
export const jsonPlugin = fp(async (app: FastifyInstance) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(body as string);
    } catch {
      return done(new ClienteleError('malformed_json', 'The body is not valid JSON.'), undefined);
    }
    try {
      checkJsonShape(value);
    } catch (error) {
      return done(error as Error, undefined);
    }
    done(null, value);
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    done(
      new ClienteleError('unsupported_media_type', 'Send the body as application/json.'),
      undefined,
    );
  });
});
