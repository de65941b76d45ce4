import type { FastifyReply } from 'fastify';
import {
  type ClienteleError,
  type ErrorCode,
  type FieldProblem,
  statusOf,
} from '../core/errors.js';

/** Titles per status, as RFC 9457 suggests: short, the same for every occurrence. */
const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemTitle(status: number): string {
  return titles[status] ?? 'Error';
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors: FieldProblem[];
  requestId: string;
  [extra: string]: unknown;
}

export function problemOf(error: ClienteleError, requestId: string): ProblemBody {
  const status = statusOf(error.code);
  return {
    type: `https://clientele.dev/problems/${error.code.replaceAll('_', '-')}`,
    title: problemTitle(status),
    status,
    detail: error.message,
    code: error.code,
    errors: error.errors,
    requestId,
    ...(error.details ?? {}),
  };
}

/**
 * The headers an error's answer carries in every API's shape: an outage says when to
 * try again (a database that is away is usually back within seconds; a store's values
 * being filled for its first preview, a chunk of customers a request).
 */
export function errorHeaders(error: ClienteleError): Record<string, string> {
  return error.code === 'service_unavailable' || error.code === 'values_preparing'
    ? { 'Retry-After': '1' }
    : {};
}

/** The one renderer of native errors. */
export function sendProblem(reply: FastifyReply, error: ClienteleError): FastifyReply {
  if (error.code === 'unauthorized') reply.header('WWW-Authenticate', 'Bearer realm="clientele"');
  return reply
    .headers(errorHeaders(error))
    .code(statusOf(error.code))
    .type('application/problem+json')
    .send(problemOf(error, String(reply.request.id)));
}
