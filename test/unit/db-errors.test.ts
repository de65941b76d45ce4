import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/core/customers/retry.js';
import { isUniqueViolation, sameRelation } from '../../src/core/db/errors.js';

/** An error as pg and PGlite hand it over: SQLSTATE in `code`, the key's names beside. */
function pgError(fields: { code: string; table?: string; constraint?: string; message?: string }) {
  return Object.assign(new Error(fields.message ?? 'error'), fields);
}

const identity = { table: 'customer_identifiers', constraint: 'customer_identifiers_pkey' };
const message = (name: string) => `duplicate key value violates unique constraint "${name}"`;

describe('a shard of a relation', () => {
  it('is the name, or the name, an underscore and digits', () => {
    expect(sameRelation('customer_identifiers_pkey', 'customer_identifiers_pkey')).toBe(true);
    expect(sameRelation('customer_identifiers_pkey_102103', 'customer_identifiers_pkey')).toBe(
      true,
    );
    expect(sameRelation('customer_identifiers_102103', 'customer_identifiers')).toBe(true);
  });
  it('is nothing else', () => {
    for (const other of [
      'customer_identifiers_pkey_',
      'customer_identifiers_pkey_12a',
      'customer_identifiers_pkeyx',
      'customer_identifiers_pkey102103',
      'customer_identifiers_archive',
      'customers_pkey',
    ]) {
      expect(sameRelation(other, 'customer_identifiers_pkey'), other).toBe(false);
    }
    expect(sameRelation('customer_identifiers_pkey', 'customer_identifiers')).toBe(false);
  });
});

describe('isUniqueViolation', () => {
  it('goes by SQLSTATE', () => {
    expect(isUniqueViolation(pgError({ code: '23505' }))).toBe(true);
    expect(isUniqueViolation(pgError({ code: '23503' }))).toBe(false);
    expect(isUniqueViolation(new Error('duplicate key'))).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });

  it('knows the key by its table and constraint, on PostgreSQL and on a Citus shard', () => {
    const plain = pgError({
      code: '23505',
      table: 'customer_identifiers',
      constraint: 'customer_identifiers_pkey',
      message: message('customer_identifiers_pkey'),
    });
    // A shard's error, as the worker (or the coordinator executing locally) raises it.
    const shard = pgError({
      code: '23505',
      table: 'customer_identifiers_102103',
      constraint: 'customer_identifiers_pkey_102103',
      message: message('customer_identifiers_pkey_102103'),
    });
    // As the coordinator re-raises a worker's: SQLSTATE and message, no table or constraint.
    const reraised = pgError({
      code: '23505',
      message: message('customer_identifiers_pkey_102103'),
    });
    for (const error of [plain, shard, reraised]) {
      expect(isUniqueViolation(error, identity)).toBe(true);
      expect(isUniqueViolation(error, { table: 'customer_identifiers' })).toBe(true);
      expect(isUniqueViolation(error, { constraint: 'customer_identifiers_pkey' })).toBe(true);
    }
  });

  it('tells another key apart, whatever its suffix', () => {
    const others = [
      pgError({ code: '23505', table: 'customers', constraint: 'customers_pkey' }),
      pgError({ code: '23505', table: 'customers_102008', constraint: 'customers_by_seq_102008' }),
      pgError({ code: '23505', message: message('customer_events_pkey_102040') }),
      pgError({ code: '23505', table: 'customer_identifiers', constraint: 'some_other_key' }),
    ];
    for (const error of others)
      expect(isUniqueViolation(error, identity), error.message).toBe(false);
  });

  it('counts a unique violation that names nothing to check as the key asked about', () => {
    const bare = pgError({
      code: '23505',
      message: 'doppelter Schlüsselwert verletzt Unique-Constraint »customer_identifiers_pkey«',
    });
    expect(isUniqueViolation(bare, identity)).toBe(true);
  });
});

describe('what an upsert retries', () => {
  it('a deadlock, a serialisation failure, an identifier value claimed meanwhile', () => {
    expect(isRetryable(pgError({ code: '40P01' }))).toBe(true);
    expect(isRetryable(pgError({ code: '40001' }))).toBe(true);
    expect(
      isRetryable(
        pgError({
          code: '23505',
          table: 'customer_identifiers',
          constraint: 'customer_identifiers_pkey_102103',
          message: message('customer_identifiers_pkey_102103'),
        }),
      ),
    ).toBe(true);
    expect(
      isRetryable(pgError({ code: '23505', message: message('customer_identifiers_pkey_102103') })),
    ).toBe(true);
  });
  it('not another key violated, nor anything else', () => {
    expect(
      isRetryable(pgError({ code: '23505', table: 'customers', constraint: 'customers_by_seq' })),
    ).toBe(false);
    expect(isRetryable(pgError({ code: '23502' }))).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(false);
  });
});
