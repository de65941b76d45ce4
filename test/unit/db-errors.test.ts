import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/core/customers/retry.js';
import { isDatabaseUnavailable } from '../../src/core/db/availability.js';
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

describe('isDatabaseUnavailable', () => {
  it('is every way of saying the database is not there for us', () => {
    for (const code of [
      '57P01', // terminated by an administrator
      '57P02',
      '57P03', // starting up
      '53300', // too many connections
      '3D000', // no such database
      '28000', // no such role
      '28P01', // wrong password
      '08006',
      '08001',
      '08P01',
      'ECONNREFUSED',
      'ENOTFOUND',
      'ETIMEDOUT',
    ]) {
      expect(isDatabaseUnavailable(pgError({ code })), code).toBe(true);
    }
    const refusedEverywhere = new AggregateError([
      pgError({ code: 'ECONNREFUSED' }),
      pgError({ code: 'ECONNREFUSED' }),
    ]);
    expect(isDatabaseUnavailable(refusedEverywhere)).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('is nothing a database that is there says', () => {
    for (const code of ['23505', '23503', '40001', '40P01', '42P01', '22P02', '53100', '57014']) {
      expect(isDatabaseUnavailable(pgError({ code })), code).toBe(false);
    }
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});
