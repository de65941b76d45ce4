import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

/**
 * Prefixed, time-sortable ids (`cust_01JD…`). The ULID part sorts by creation time, and
 * within one process it is monotonic, so keyset pagination by id is newest-first.
 */
export type IdPrefix =
  | 'cust'
  | 'sto'
  | 'key'
  | 'evt'
  | 'req'
  | 'tok'
  | 'whe'
  | 'whd'
  | 'wha'
  | 'imp'
  | 'seg'
  | 'sup'
  | 'mrg';

// ulidx draws one random number per character; drawing them from a pooled buffer of
// crypto randomness spares a system call for each.
const pool = new Uint16Array(4096);
let next = pool.length;
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return (pool[next++] as number) / 65536;
}

const ulid = monotonicFactory(pooledRandom);

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return (
    id.startsWith(`${prefix}_`) && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id.slice(prefix.length + 1))
  );
}
