/**
 * Telling database errors apart, the one way the whole code base does it.
 *
 * By SQLSTATE first. Where it matters which key was violated, by the table the error
 * names or by its constraint name, each compared so that a Citus shard's name counts as
 * its table's: a table distributed by store_id is stored in shards whose tables and
 * constraints carry a numeric suffix (`customer_identifiers_102103`,
 * `customer_identifiers_pkey_102103`). And a shard's error re-raised by the Citus
 * coordinator keeps its SQLSTATE and message but loses the table and constraint fields:
 * the constraint's name is then read from the message.
 */

export const UNIQUE_VIOLATION = '23505';

/** The error's SQLSTATE (pg and PGlite both put it in `code`), if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export interface UniqueKey {
  /** The table the key is on, as created (a shard's `_<digits>` suffix tolerated). */
  table?: string;
  /** The constraint's name, as created (a shard's `_<digits>` suffix tolerated). */
  constraint?: string;
}

/**
 * Whether the error is a unique violation (23505) of this key; of any key when none is
 * named. Each name given is checked against whatever the error tells of it (the table
 * against its `table` field; the constraint against its `constraint` field or, without
 * one, the name quoted in its message), and must agree. A unique violation that tells
 * nothing to check a name against (say, a message in another language, re-raised
 * without its fields) counts as this key's: it cannot be told apart, and taking it for
 * the race it most likely is costs a retry, where refusing it would cost an error.
 */
export function isUniqueViolation(error: unknown, key: UniqueKey = {}): boolean {
  if (sqlState(error) !== UNIQUE_VIOLATION) return false;
  const fields = error as { table?: unknown; constraint?: unknown; message?: unknown };
  if (key.table !== undefined && typeof fields.table === 'string') {
    if (!sameRelation(fields.table, key.table)) return false;
  }
  if (key.constraint !== undefined) {
    const named =
      typeof fields.constraint === 'string'
        ? fields.constraint
        : constraintInMessage(fields.message);
    if (named !== undefined && !sameRelation(named, key.constraint)) return false;
  }
  return true;
}

/** `actual` is `expected`, or a shard of it: `expected` followed by `_<digits>`. */
export function sameRelation(actual: string, expected: string): boolean {
  if (actual === expected) return true;
  return (
    actual.length > expected.length + 1 &&
    actual.startsWith(expected) &&
    actual[expected.length] === '_' &&
    /^\d+$/.test(actual.slice(expected.length + 1))
  );
}

/** PostgreSQL's English message names the constraint: `… violates unique constraint "x"`. */
function constraintInMessage(message: unknown): string | undefined {
  if (typeof message !== 'string') return undefined;
  return /unique constraint "([^"]+)"/.exec(message)?.[1];
}
