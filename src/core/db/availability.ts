/**
 * SQLSTATEs that say the database is not there for us, now: every one is answered as an
 * outage. (Class 08, connection exceptions, counts whole.)
 */
const unavailableStates = new Set([
  '57P01', // admin_shutdown: terminated by an administrator, or the server stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '53300', // too_many_connections: the server's, a role's or a database's limit reached
  '3D000', // invalid_catalog_name: no such database
  '28000', // invalid_authorization_specification: no such role, or one not allowed to log in
  '28P01', // invalid_password
]);

/** What Node says when it cannot reach the server at all. */
const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Whether an error says the database is not there (down, unreachable, refusing
 * connections, starting or stopping, refusing these credentials or this database name):
 * every API answers it with 503 and Retry-After, as an outage, rather than 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; errors?: unknown[] } | null;
  if (!e) return false;
  // Node reports a refused connection to every address of a host as one AggregateError.
  if (e.errors?.some((inner) => isDatabaseUnavailable(inner))) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  return (
    unavailableStates.has(code) ||
    unreachableCodes.has(code) ||
    /^08[0-9A-Z]{3}$/.test(code) ||
    /timeout exceeded when trying to connect|Connection terminated|terminating connection|the database system is (starting up|shutting down)/i.test(
      typeof e.message === 'string' ? e.message : '',
    )
  );
}
