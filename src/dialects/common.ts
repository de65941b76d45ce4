import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import type { Clientele } from '../core/clientele.js';
import { ClienteleError, fail, statusOf } from '../core/errors.js';
import type { Platform } from '../core/stores/settings.js';
import type { Caller } from '../core/stores/stores.repository.js';
import { toClienteleError } from '../http/plugins/errors.js';
import { idempotencyGuard } from '../http/plugins/idempotency.js';
import { unrouted } from '../http/plugins/methods.js';
import { errorHeaders } from '../http/problem.js';

/**
 * What every dialect shares. A dialect is a translator: its routes turn the platform's
 * request into one call of the core and the core's answer into the platform's response.
 * Rules live in the core; here is only shape.
 */
export interface DialectOptions {
  clientele: Clientele;
}

/** A platform's rendering of an error: status, body and any headers. */
export type ErrorRenderer = (
  error: ClienteleError,
  request: FastifyRequest,
) => { status: number; body: unknown; headers?: Record<string, string> };

/**
 * How a platform names the fields the core's errors point at: a native JSON Pointer (whole
 * segments; the longest that fits wins) and the platform's pointer for it, the rest of the
 * path kept. Only the core's names are keys, and no path in the platform's own terms (its
 * schema's, its dialect's) starts with one, so an error is renamed once, wherever it came from.
 */
export type FieldNames = Readonly<Record<string, string>>;

export function inPlatformNames(error: ClienteleError, names: FieldNames): ClienteleError {
  const prefixes = Object.keys(names).sort((a, b) => b.length - a.length);
  const rename = (path: string) => {
    const prefix = prefixes.find((p) => path === p || path.startsWith(`${p}/`));
    return prefix === undefined ? path : `${names[prefix]}${path.slice(prefix.length)}`;
  };
  if (!error.errors.some((e) => rename(e.path) !== e.path)) return error;
  // A message that leads with its field's path (fail.field, fail.limit) leads with the new one.
  const first = error.errors[0]?.path ?? '';
  const message =
    first !== '' && error.message.startsWith(`${first}: `)
      ? `${rename(first)}${error.message.slice(first.length)}`
      : error.message;
  const errors = error.errors.map((e) => ({ path: rename(e.path), message: e.message }));
  return new ClienteleError(error.code, message, errors, error.details);
}

/**
 * Installs the platform's error shape for every route of the dialect, unknown routes
 * included, with the core's field names turned into the platform's (`names`).
 */
export function useErrorShape(
  app: FastifyInstance,
  render: ErrorRenderer,
  names: FieldNames = {},
): void {
  const send = (reply: FastifyReply, error: ClienteleError) => {
    const { status, body, headers } = render(inPlatformNames(error, names), reply.request);
    return reply
      .code(status)
      .headers({ ...errorHeaders(error), ...headers })
      .send(body);
  };
  app.setErrorHandler((error, request, reply) => send(reply, toClienteleError(error, request)));
  app.setNotFoundHandler((request, reply) => send(reply, unrouted(request, reply)));
}

/**
 * The caller a platform's credentials stand for. `tenant` is how the platform names the
 * store (its id, or the alias set for this platform); a key of another store is refused
 * with `forbidden`, which each dialect renders as its platform does.
 */
export async function authorize(
  clientele: Clientele,
  platform: Platform,
  credentials: { key: string | undefined; tenant?: string | undefined; accessTokens?: boolean },
): Promise<Caller> {
  const { key, tenant } = credentials;
  if (!key) throw fail.unauthorized('Missing credentials.');
  const caller =
    (await clientele.keys.authenticate(key)) ??
    (credentials.accessTokens ? await clientele.keys.authenticateAccessToken(key) : undefined);
  if (!caller) throw fail.unauthorized('Invalid or revoked credentials.');
  if (tenant !== undefined) {
    const storeId = await clientele.stores.findByIdOrAlias(tenant, platform);
    if (storeId !== caller.storeId) {
      throw new ClienteleError('forbidden', 'These credentials do not have access to this store.');
    }
  }
  return caller;
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The fields that have a value. Platforms whose schemas type a field as a string or a
 * number leave an unset one out rather than send null.
 */
export function present<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)) as {
    [K in keyof T]?: Exclude<T[K], null>;
  };
}

/** The most recently added phone number: the one a single-phone platform shows. */
export function latestPhone(phoneNumbers: string[]): string | null {
  return phoneNumbers.at(-1) ?? null;
}

/**
 * The pre-handlers of a dialect route: the platform's credentials become
 * `request.caller`, then an Idempotency-Key (if any) is honoured for that store.
 */
export function guard(
  clientele: Clientele,
  credentialsOf: (request: FastifyRequest) => Promise<Caller>,
): preHandlerAsyncHookHandler[] {
  return [
    async (request) => {
      request.caller = await credentialsOf(request);
    },
    idempotencyGuard(clientele, (request) => request.caller.storeId) as preHandlerAsyncHookHandler,
  ];
}

/**
 * The HTTP status a platform gives an error: `remap` turns Clientele's status into the
 * platform's (most answer any refused body with 400), and another store's credentials
 * (`forbidden`) get the platform's own status, 401 unless it says otherwise.
 */
export function platformStatus(
  error: ClienteleError,
  remap: Record<number, number> = {},
  forbidden = 401,
): number {
  if (error.code === 'forbidden') return forbidden;
  const status = statusOf(error.code);
  return remap[status] ?? status;
}

/** Every field problem on one line, or the error's message when it names no field. */
export function problemText(error: ClienteleError): string {
  return error.errors.length > 0
    ? error.errors.map((e) => `${e.path}: ${e.message}`).join('; ')
    : error.message;
}
