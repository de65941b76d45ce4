import type { DB } from '../db/database.js';
import { fail } from '../errors.js';
import type { Page } from '../paging.js';
import { type Customer, customerOf } from './customer.js';
import { type SearchKey, searchCustomerRows } from './search.repository.js';

/**
 * The search box: customers whose email, phone number, external id, typed identifier or
 * name starts with what was typed. Matches come in the order of what they matched (then
 * by customer id), a page at a time after the last one seen, so any prefix, however
 * common, costs one short index range per form of it.
 */

export const MAX_QUERY_LENGTH = 255;

export interface SearchQuery {
  q: string;
  limit: number;
  cursor?: string | undefined;
}

export interface SearchTerms {
  /** Prefixes of identifier values as stored: as typed, as an email, as a phone number. */
  identifiers: string[];
  /** A prefix of the lower-cased name ("first last", or the last name alone). */
  name: string;
}

/**
 * What a typed query is looked for as. Emails are stored NFKC and lower-cased, phone
 * numbers as E.164 (`+` then digits), so `JANE@Ex` and `(202) 555-01` find them;
 * external ids and typed identifiers are kept as written, so the query as typed too.
 */
export function searchTerms(q: string): SearchTerms {
  const typed = q.trim().replace(/\s+/g, ' ');
  if (typed === '') throw fail.field('/query/q', 'must hold something to search for');
  if (typed.length > MAX_QUERY_LENGTH) {
    throw fail.field('/query/q', `must be at most ${MAX_QUERY_LENGTH} characters`);
  }
  const folded = typed.normalize('NFKC').toLowerCase();
  const forms = [typed, folded];
  if (/^\+?[\d\s().-]+$/.test(typed) && /\d/.test(typed)) {
    forms.push(`+${typed.replace(/\D/g, '')}`);
  }
  return { identifiers: [...new Set(forms)], name: folded };
}

// Cursors are opaque to clients; this one carries the last match's key and customer id.
function encodeCursor(key: SearchKey): string {
  return Buffer.from(JSON.stringify([key.key, key.id])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): SearchKey | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof key === 'string' && typeof id === 'string' && id.startsWith('cust_')) {
      return { key, id };
    }
  } catch {
    // Not JSON: refused below like any other cursor this search did not give.
  }
  throw fail.field('/query/cursor', 'is not a cursor this search gave');
}

export async function searchCustomers(
  db: DB,
  storeId: string,
  query: SearchQuery,
): Promise<Page<Customer>> {
  const terms = searchTerms(query.q);
  const after = decodeCursor(query.cursor);
  const rows = await searchCustomerRows(db, storeId, terms, query.limit + 1, after);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  // A customer matched twice on one page (its name and its email, say) is shown once.
  const seen = new Set<string>();
  const data: Customer[] = [];
  for (const row of page) {
    if (seen.has(row.customer.id)) continue;
    seen.add(row.customer.id);
    data.push(customerOf(storeId, row.customer));
  }
  return {
    data,
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.key) : null,
  };
}
