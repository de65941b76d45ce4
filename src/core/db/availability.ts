/**
 * Whether an error says the database is not there (down, unreachable, refusing
 * connections, starting or stopping): every API answers it with 503 and Retry-After,
 * as an outage, rather than 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string; errors?: unknown[] } | null;
  if (!e) return false;
  // Node reports a refused connection to every address of a host as one AggregateError.
  if (e.errors?.some((inner) => isDatabaseUnavailable(inner))) return true;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001'].includes(
      e.code ?? '',
    ) ||
    /timeout exceeded when trying to connect|Connection terminated|terminating connection|the database system is (starting up|shutting down)/i.test(
      e.message ?? '',
    )
  );
}
