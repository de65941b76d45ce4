import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../../core/db/availability.js';
import { ClienteleError, type FieldProblem, fail } from '../../core/errors.js';
import { sendProblem } from '../problem.js';
import { unrouted } from './methods.js';

/** Fields a client may read but never write: refused by name. */
const readOnlyFields = new Set([
  'storeId',
  'version',
  'createdAt',
  'updatedAt',
  'displayName',
  'seq',
]);

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** How a problem's path begins for each part of a request: a body's is a bare JSON Pointer. */
const partPaths: Record<string, string> = {
  querystring: '/query',
  params: '/path',
  headers: '/header',
};

function describeValidation(errors: AjvError[], context: string | undefined): FieldProblem[] {
  const where = (context !== undefined && partPaths[context]) || '';
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const e of errors) {
    let path = where + e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      path = `${path}/${name}`;
      message = readOnlyFields.has(name)
        ? 'is read-only and cannot be written'
        : 'is not a field of this object';
    } else if (e.keyword === 'required') {
      path = `${path}/${String(e.params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'type') {
      message = `must be of type ${String(e.params.type).replaceAll(',', ' or ')}`;
    } else if (e.keyword === 'maxProperties') {
      message = `at most ${String(e.params.limit)} entries per request`;
    }
    const key = `${path}\u0000${message}`;
    if (!seen.has(key)) problems.push({ path, message });
    seen.add(key);
  }
  return problems;
}

/**
 * Any error a request can end in, as a ClienteleError: ours as they are, Fastify's (bad
 * JSON, schema failures, oversized bodies) as our codes, anything else as a 500 (or a
 * 503 when the database is away) that says nothing of the internals. Native routes and
 * every dialect render the result in their own shape.
 */
export function toClienteleError(error: unknown, request: FastifyRequest): ClienteleError {
  if (error instanceof ClienteleError) return error;
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) {
    const problems = describeValidation(fe.validation, fe.validationContext);
    const limit = fe.validation.some(
      (v) => v.keyword === 'maxProperties' || v.keyword === 'maxItems',
    );
    return new ClienteleError(
      limit ? 'limit_exceeded' : 'validation_failed',
      problems.map((p) => `${p.path || 'body'}: ${p.message}`).join('; '),
      problems,
    );
  }
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
