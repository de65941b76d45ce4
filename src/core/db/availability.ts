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
    /timeout exceeded when trying to connect|Connection terminated|terminating connection|connection error and is not queryable|the database system is (starting up|shutting down)/i.test(
      typeof e.message === 'string' ? e.message : '',
    )
  );
}

/** Where a connection string points, without its user or password. */
function target(databaseUrl: string): { at: string; database: string } {
  try {
    const url = new URL(databaseUrl);
    const host = url.searchParams.get('host') ?? (url.hostname || 'localhost');
    const database = decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username);
    return { at: `${host}:${url.port || '5432'}`, database };
  } catch {
    return { at: 'DATABASE_URL', database: '' };
  }
}

/**
 * What an operator must read when the database cannot be used at all, in one line: which
 * database, what went wrong and what to check. Undefined for any other error.
 */
export function connectionFailure(error: unknown, databaseUrl: string): string | undefined {
  const e = error as { code?: string; message?: string; errors?: unknown[] } | null;
  if (!e) return undefined;
  // Node reports the refusal of every address of a host as one AggregateError.
  const inner = e.errors?.[0] as { code?: string } | undefined;
  const code = e.code ?? inner?.code ?? '';
  const { at, database } = target(databaseUrl);
  const reach = `Cannot reach PostgreSQL at ${at}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `${reach}: connection refused. Check that PostgreSQL is running there and that DATABASE_URL names its host and port.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${reach}: no such host. Check the host in DATABASE_URL.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${reach}: no answer. Check that PostgreSQL is running there and that no firewall is in the way.`;
    case 'ECONNRESET':
      return `${reach}: the connection was reset. Check that DATABASE_URL names a PostgreSQL server (and whether it needs sslmode=require).`;
    case '3D000':
      return `PostgreSQL at ${at} has no database "${database}": create it (createdb ${database}) or correct the database name in DATABASE_URL.`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${at} refused the login (${e.message}): check the user and password in DATABASE_URL.`;
    case '57P03':
      return `PostgreSQL at ${at} is starting up or shutting down: start again once it accepts connections.`;
  }
  if (/timeout exceeded when trying to connect/i.test(e.message ?? '')) {
    return `${reach}: no answer within 1.5 s. Check that PostgreSQL is running there and that no firewall is in the way.`;
  }
  return undefined;
}
