import { sql } from 'kysely';

/**
 * When a lease written now ends: from clock_timestamp(), the moment it is written, not
 * now(), the start of its transaction (a batch's or a chunk's transaction can take a good
 * part of a lease). Imports and segment builds lease their work with it.
 */
export const leaseEnd = (ms: number) =>
  sql`clock_timestamp() + make_interval(secs => ${ms / 1000})`;
