import { describe, expect, it } from 'vitest';
import { loggableError, loggableUrl, withoutValues } from '../../src/http/logging.js';

describe('what a log line may say', () => {
  it('keeps the names PostgreSQL quotes and drops the values', () => {
    expect(withoutValues('duplicate key value violates unique constraint "customers_pkey"')).toBe(
      'duplicate key value violates unique constraint "customers_pkey"',
    );
    expect(withoutValues('column "email" of relation "customers" does not exist')).toBe(
      'column "email" of relation "customers" does not exist',
    );
    expect(withoutValues('invalid input syntax for type integer: "ann@example.com"')).toBe(
      'invalid input syntax for type integer: "…"',
    );
    expect(withoutValues('value "4155550100" is out of range for type integer')).toBe(
      'value "…" is out of range for type integer',
    );
    expect(withoutValues('Key (store_id, email)=(sto_1, ann@example.com) already exists.')).toBe(
      'Key (store_id, email)=(…) already exists.',
    );
    expect(withoutValues('Failing row contains (sto_1, cust_2, Ann (Annie), Lee).')).toBe(
      'Failing row contains (…).',
    );
  });

  it('logs an error without its detail, where or hint', () => {
    const error = Object.assign(new Error('new row violates check constraint "c"'), {
      code: '23514',
      constraint: 'c',
      table: 'customers',
      detail: 'Failing row contains (ann@example.com).',
      where: 'SQL function "f" statement 1',
      hint: 'ann',
    });
    const logged = loggableError(error);
    expect(logged).toMatchObject({ code: '23514', constraint: 'c', table: 'customers' });
    expect(JSON.stringify(logged)).not.toMatch(/ann|detail|where|hint/);
  });

  it('logs a URL by its path and the names of its query parameters', () => {
    expect(loggableUrl('/a/b?email=ann%40example.com&access_token=t&limit=5')).toBe(
      '/a/b?email=…&access_token=…&limit=…',
    );
    // A name whose '=' is percent-encoded carries its value: it is cut there.
    expect(loggableUrl('/a?access_token%3Dsecret&access_token%253Dsecret')).toBe(
      '/a?access_token=…&access_token=…',
    );
    expect(loggableUrl('/a/b')).toBe('/a/b');
  });
});
