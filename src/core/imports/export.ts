import type { DB } from '../db/database.js';
import { listDeclarations } from '../fields/fields.repository.js';
import { csvLine, exportHeader } from './columns.js';
import { exportPage } from './export.repository.js';

export type ExportFormat = 'ndjson' | 'csv';

/**
 * Customers a page: one statement per 5,000, each answered as one text (a few MB at
 * most for customers of ordinary size), so that the database's round trips are few
 * and the server's memory bounded.
 */
const PAGE = 5000;

/**
 * Every customer of a store, as the text the import reads back: NDJSON, one native upsert
 * body a line; or CSV, a header of the import's column names then a line a customer. Read
 * in keyset pages by id, each in a short transaction of its own (no snapshot held for the
 * whole export: a long transaction would hold back the event feed), so a store of any
 * size streams in bounded memory. The next page is asked for as soon as a page arrives,
 * so the database builds it while this one is written out; the consumer's pace (the
 * socket's backpressure, through Readable.from) holds back the one after.
 */
export async function* exportCustomers(
  db: DB,
  storeId: string,
  format: ExportFormat,
): AsyncGenerator<string> {
  const fields = format === 'csv' ? (await listDeclarations(db, storeId)).map((f) => f.name) : [];
  const as = format === 'csv' ? { csv: fields } : 'ndjson';
  if (format === 'csv') yield csvLine(exportHeader(fields));
  // A page asked for ahead may fail after the reader has gone: never left unhandled.
  const ask = (after: string) => {
    const page = exportPage(db, storeId, as, after, PAGE);
    page.catch(() => undefined);
    return page;
  };
  let next = ask('');
  for (;;) {
    const page = await next;
    if (page.count === 0 || page.last === null) return;
    const more = page.count === PAGE;
    if (more) next = ask(page.last);
    yield page.text;
    if (!more) return;
  }
}
