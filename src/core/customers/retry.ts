import { isUniqueViolation, sqlState } from '../db/errors.js';

/**
 * Runs a transaction again when PostgreSQL says a concurrent one got in the way: a
 * deadlock, a serialisation failure, or an identifier value claimed a moment ago. No
 * lock is taken ahead for a value nobody holds yet: of two writers claiming it, the
 * second fails on the unique key of `customer_identifiers` once the first commits, and
 * run again it finds the customer the first wrote (docs/architecture.md, "The way an
 * upsert takes"). Another unique key violated is no race, and is not retried.
 */
const retryableCodes = new Set(['40P01', '40001']);

/** The identity index's key: one row per identifier value and store. */
const identityKey = { table: 'customer_identifiers', constraint: 'customer_identifiers_pkey' };

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

export function isRetryable(error: unknown): boolean {
  if (error instanceof Error && error.name === 'RetryableConflict') return true;
  const code = sqlState(error);
  if (code !== undefined && retryableCodes.has(code)) return true;
  return isUniqueViolation(error, identityKey);
}
