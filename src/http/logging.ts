import type { FastifyServerOptions } from 'fastify';

/**
 * What the logs may say about a request and an error: never a customer's data. A request
 * is logged as its method, path and the names of its query parameters (their values are
 * emails, phone numbers, tokens); an error as its type, code, the names PostgreSQL gives
 * (table, constraint, column), and its message and stack with any quoted value taken out.
 * A database error's `detail` (`Key (email)=(ann@example.com)`, `Failing row contains
 * (…)`), `where` and `hint` quote values, and are left out.
 */

/** `/v1/stores/x/customers?email=…`: the query's names kept, every value replaced. */
export function loggableUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const names = url
    .slice(at + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${loggableName(pair.split('=', 1)[0] ?? '')}=…`);
  return `${url.slice(0, at)}?${names.join('&')}`;
}

/**
 * A parameter's name as written, unless it hides a value: one whose `=` is percent-
 * encoded (`access_token%3D<token>`, even twice over) is cut at it, and one that cannot
 * be decoded is not shown.
 */
function loggableName(name: string): string {
  let decoded = name.replaceAll('+', ' ');
  for (let round = 0; round < 3 && decoded.includes('%'); round++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      return '…';
    }
  }
  const eq = decoded.indexOf('=');
  return eq < 0 ? name : encodeURIComponent(decoded.slice(0, eq));
}

// PostgreSQL quotes names after the word saying what they are (`constraint "x"`,
// `relation "customers"`); any other quoted text (`for type integer: "abc"`, `value
// "…" is out of range`) may be a value. Names are matched first, so that the text
// between two quoted names is never taken for a quoted value.
const QUOTED =
  /\b(?:relation|constraint|column|table|index|function|type|schema|database|role|sequence|trigger|view|extension|encoding|operator|statement|portal|cursor|savepoint) "(?:[^"]|"")*"|("(?:[^"]|"")*")/gi;
const KEY_VALUES = /\)=\((?:[^()]|\([^()]*\))*\)/g;
const FAILING_ROW = /(Failing row contains )\(.*\)/g;

/** A database message with the values it may quote replaced by `…`. */
export function withoutValues(text: string): string {
  return text
    .replace(KEY_VALUES, ')=(…)')
    .replace(FAILING_ROW, '$1(…)')
    .replace(QUOTED, (match, value: string | undefined) => (value ? '"…"' : match));
}

/** The facts of a database (or any) error that name things, not values. */
const namingFields = [
  'code',
  'severity',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'routine',
] as const;

export interface LoggedError {
  type: string;
  message: string;
  stack: string;
  errors?: LoggedError[];
  cause?: LoggedError;
  [field: string]: unknown;
}

export function loggableError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) {
    return { type: typeof error, message: 'a thrown non-error', stack: '' };
  }
  const e = error as Error & Record<string, unknown>;
  const logged: LoggedError = {
    type: e.constructor?.name ?? e.name,
    message: withoutValues(e.message),
    stack: withoutValues(e.stack ?? ''),
  };
  for (const field of namingFields) {
    if (typeof e[field] === 'string' || typeof e[field] === 'number') logged[field] = e[field];
  }
  if (depth < 3) {
    if (Array.isArray(e.errors)) logged.errors = e.errors.map((i) => loggableError(i, depth + 1));
    if (e.cause !== undefined) logged.cause = loggableError(e.cause, depth + 1);
  }
  return logged;
}

const serializers = {
  req: (request: { method: string; url: string; id: string }) => ({
    method: request.method,
    url: loggableUrl(request.url),
    id: request.id,
  }),
  err: loggableError,
};

/** The app's logger options with the serializers above, whatever the caller set. */
export function withLoggableSerializers(
  logger: FastifyServerOptions['logger'],
): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const options = logger === true ? {} : logger;
  return { ...options, serializers: { ...options.serializers, ...serializers } };
}
