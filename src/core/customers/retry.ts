/**
 * Runs a transaction again when PostgreSQL says a concurrent one got in the way:
 * a deadlock, a serialisation failure, or a unique key taken a moment ago. The
 * identity locks make these rare; this makes them invisible.
 */
const retryableCodes = new Set(['40P01', '40001', '23505']);

export async function withRetry<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

function isRetryable(error: unknown): boolean {
  if (error instanceof Error && error.name === 'RetryableConflict') return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && retryableCodes.has(code);
}
