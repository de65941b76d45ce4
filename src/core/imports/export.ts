import { listCustomers } from '../customers/customers.repository.js';
import type { DB } from '../db/database.js';
import { listDeclarations } from '../fields/fields.repository.js';
import { csvLine, exportBody, exportCells, exportHeader } from './columns.js';

export type ExportFormat = 'ndjson' | 'csv';

/** Customers read per page: one statement per 2,000 keeps the reads far below the writing. */
const PAGE = 2000;

/**
 * Every customer of a store, as the text the import reads back: NDJSON, one native upsert
 * body a line; or CSV, a header of the import's column names then a line a customer. Read
 * in keyset pages by id, so a store of any size streams in bounded memory; each page is
 * one chunk of text.
 */
export async function* exportCustomers(
  db: DB,
  storeId: string,
  format: ExportFormat,
): AsyncGenerator<string> {
  const fields = format === 'csv' ? (await listDeclarations(db, storeId)).map((f) => f.name) : [];
  if (format === 'csv') yield csvLine(exportHeader(fields));
  let after: string | undefined;
  for (;;) {
    const page = await listCustomers(db, storeId, PAGE, after, 'asc');
    if (page.length === 0) return;
    let text = '';
    for (const c of page) {
      text +=
        format === 'csv'
          ? csvLine(exportCells(c.state, fields))
          : `${JSON.stringify(exportBody(c.state))}\n`;
    }
    yield text;
    if (page.length < PAGE) return;
    after = page[page.length - 1]?.id;
  }
}
