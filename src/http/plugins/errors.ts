import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../../core/db/availability.js';
import { ClienteleError, fail } from '../../core/errors.js';
import { type AjvError, validationError } from '../../core/validation.js';
import { sendProblem } from '../problem.js';
import { unrouted } from './methods.js';

/**
 * Any error a request can end in, as a ClienteleError: ours as they are, Fastify's (bad
 * JSON, schema failures, oversized bodies) as our codes, anything else as a 500 (or a
 * 503 when the database is away) that says nothing of the internals. Native routes and
 * every dialect render the result in their own shape.
 */
export function toClienteleError(error: unknown, request: FastifyRequest): ClienteleError {
  if (error instanceof ClienteleError) return error;
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) return validationError(fe.validation, fe.validationContext);
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ClienteleError('malformed_json', 'The body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ClienteleError('payload_too_large', 'The body is larger than the 1 MiB limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ClienteleError('unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_BAD_URL':
      return fail.field('/path', 'is not valid percent-encoded UTF-8');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ClienteleError('not_found', 'No route has a path this long.');
  }
  if (error instanceof SyntaxError || fe.statusCode === 400) {
    return new ClienteleError('malformed_json', 'The body is not valid JSON.');
  }
  if (isDatabaseUnavailable(error)) {
    request.log.error({ err: error }, 'database unavailable');
    return new ClienteleError('service_unavailable', 'The database is unavailable.');
  }
  request.log.error({ err: error }, 'unhandled error');
  return new ClienteleError('internal_error', 'Something went wrong on our side.');
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error, request, reply) => {
    return sendProblem(reply, toClienteleError(error, request));
  });

  app.setNotFoundHandler((request, reply) => sendProblem(reply, unrouted(request, reply)));
});
