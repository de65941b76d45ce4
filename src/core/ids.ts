import { monotonicFactory } from 'ulidx';

/**
 * Prefixed, time-sortable ids (`cust_01JD…`). The ULID part sorts by creation time, and
 * within one process it is monotonic, so keyset pagination by id is newest-first.
 */
export type IdPrefix = 'cust' | 'sto' | 'key' | 'evt' | 'req' | 'tok';

const ulid = monotonicFactory();

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return (
    id.startsWith(`${prefix}_`) && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id.slice(prefix.length + 1))
  );
}
