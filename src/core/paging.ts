import { fail } from './errors.js';
import { hasPrefix, type IdPrefix } from './ids.js';

/**
 * Keyset pages, newest first, for every list keyed by a prefixed id (customers, their
 * events, stores, keys): ids only grow, so a page never repeats or skips an item that
 * existed when paging began.
 */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface PageQuery {
  limit: number;
  cursor?: string | undefined;
}

/** The cursor of the page after this one, when there is one: its last id. */
export function nextCursorOf(more: boolean, data: { id: string }[]): string | null {
  const last = data.at(-1);
  return more && last ? encodeCursor(last.id) : null;
}

/** A page from `limit + 1` rows read newest first: the extra row says there are more. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit);
  return { data, nextCursor: nextCursorOf(rows.length > limit, data) };
}

// Cursors are opaque to clients; today they carry the last id seen.
function encodeCursor(id: string): string {
  return Buffer.from(id).toString('base64url');
}

/** The id a cursor of this list resumes before, or a 400 naming `/cursor`. */
export function decodeCursor(cursor: string | undefined, prefix: IdPrefix): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!hasPrefix(id, prefix)) throw fail.field('/query/cursor', 'is not a cursor this list gave');
  return id;
}
