import { type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/database.js';
import { exportHeader, targetOf } from './columns.js';

/**
 * The export's SQL: a page of a store's customers as the text the import reads back,
 * built by PostgreSQL, one string a page. Decoding every column of every row (five JSONB
 * values parsed, then serialised again) had cost the server more than the database's
 * whole work; here the driver receives one text value a page. What the import reads
 * back (columns.ts) is what is written here: the CSV's columns are exportHeader's, each
 * cell as targetOf reads it; `test/http/imports.test.ts` holds the round trip.
 */

/** A JSON member `"name":value`, or NULL (left out) when `when` is false. */
const member = (name: string, when: RawBuilder<unknown>, json: RawBuilder<unknown>) =>
  sql`CASE WHEN ${when} THEN ${`"${name}":`}::text || (${json})::text END`;

/** The native upsert body: nothing null or empty (loyalty whenever set), as JSON. */
const ndjsonLine = sql<string>`'{' || concat_ws(',',
  ${member('externalId', sql`c.external_id IS NOT NULL`, sql`to_json(c.external_id)`)},
  ${member('email', sql`c.email IS NOT NULL`, sql`to_json(c.email)`)},
  ${member('phoneNumbers', sql`cardinality(c.phone_numbers) > 0`, sql`to_json(c.phone_numbers)`)},
  ${member('firstName', sql`c.first_name IS NOT NULL`, sql`to_json(c.first_name)`)},
  ${member('lastName', sql`c.last_name IS NOT NULL`, sql`to_json(c.last_name)`)},
  ${member('birthdate', sql`c.birthdate IS NOT NULL`, sql`to_json(to_char(c.birthdate, 'YYYY-MM-DD'))`)},
  ${member('description', sql`c.description IS NOT NULL`, sql`to_json(c.description)`)},
  ${member('active', sql`true`, sql`c.active`)},
  ${member('location', sql`jsonb_strip_nulls(c.location) <> '{}'`, sql`jsonb_strip_nulls(c.location)`)},
  ${member('identifiers', sql`c.identifiers <> '[]'`, sql`c.identifiers`)},
  ${member('customFields', sql`c.custom_fields <> '{}'`, sql`c.custom_fields`)},
  ${member('metadata', sql`c.metadata <> '{}'`, sql`c.metadata`)},
  ${member('channels', sql`c.channels <> '[]'`, sql`c.channels`)},
  ${member('loyalty', sql`c.loyalty IS NOT NULL AND jsonb_typeof(c.loyalty) <> 'null'`, sql`c.loyalty`)}
) || E'}\\n'`;

/** A JSON column as a cell: its text, or NULL (an empty cell) when empty. */
const jsonCell = (column: 'identifiers' | 'metadata' | 'channels' | 'loyalty') => {
  const ref = sql.ref(`c.${column}`);
  if (column === 'loyalty')
    return sql`CASE WHEN jsonb_typeof(${ref}) <> 'null' THEN ${ref}::text END`;
  return sql`CASE WHEN ${ref} <> ${column === 'metadata' ? '{}' : '[]'}::jsonb THEN ${ref}::text END`;
};

const textCells: Record<string, RawBuilder<unknown>> = {
  externalId: sql`c.external_id`,
  email: sql`c.email`,
  firstName: sql`c.first_name`,
  lastName: sql`c.last_name`,
  birthdate: sql`to_char(c.birthdate, 'YYYY-MM-DD')`,
  description: sql`c.description`,
};

/** The SQL of one export column, as targetOf (the import) reads that column. */
function cellOf(column: string): RawBuilder<unknown> {
  const target = targetOf(column);
  switch (target?.kind) {
    case 'text':
      return textCells[target.name] ?? sql`NULL`;
    case 'phone':
      return sql`array_to_string(c.phone_numbers, '|')`;
    case 'active':
      return sql`c.active::text`;
    case 'location':
      return sql`c.location ->> ${target.part}::text`;
    case 'json':
      return jsonCell(target.name as 'identifiers');
    case 'customField':
      return sql`c.custom_fields ->> ${target.name}::text`;
    default:
      throw new Error(`no export cell for ${column}`);
  }
}

/** A customer's CSV cells, in exportHeader's order, NULL where empty. */
const csvCells = (fields: readonly string[]) =>
  sql<string[]>`ARRAY[${sql.join(exportHeader([...fields]).map(cellOf))}]::text[]`;

/**
 * The CSV line of `t.cells` (csvLine): a cell holding a quote, the delimiter or a line
 * break is quoted. Tested once a line, and cell by cell only in a line that needs it.
 */
const csvLineOfCells = sql<string>`CASE WHEN array_to_string(t.cells, '') ~ '[",\r\n;]'
  THEN (SELECT string_agg(CASE WHEN x ~ '[",\r\n;]' THEN '"' || replace(x, '"', '""') || '"'
      ELSE coalesce(x, '') END, ',' ORDER BY n)
    FROM unnest(t.cells) WITH ORDINALITY AS u(x, n))
  ELSE array_to_string(t.cells, ',', '') END || E'\r\n'`;

/**
 * Up to `limit` customers after `after` in id order, as one text, with the last id and
 * how many. In a transaction of its own whose plan reads the primary key in order and
 * stops at the limit: with no statistics on `store_id`, the planner believes a store
 * small and would gather and sort all of it past `after`, once a page.
 */
export async function exportPage(
  db: DB,
  storeId: string,
  format: { csv: readonly string[] } | 'ndjson',
  after: string,
  limit: number,
): Promise<{ text: string; count: number; last: string | null }> {
  const [cells, line] =
    format === 'ndjson' ? [ndjsonLine, sql`t.cells`] : [csvCells(format.csv), csvLineOfCells];
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('enable_bitmapscan', 'off', true),
      set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true)`.execute(
      trx,
    );
    const { rows } = await sql<{ text: string | null; count: string; last: string | null }>`
      SELECT string_agg(${line}, '' ORDER BY t.id) AS text, count(*) AS count, max(t.id) AS last
      FROM (
        SELECT c.id, ${cells} AS cells FROM customers AS c
        WHERE c.store_id = ${storeId} AND c.merged_into IS NULL AND c.id > ${after}
        ORDER BY c.id LIMIT ${limit}
      ) AS t`.execute(trx);
    const row = rows[0];
    return { text: row?.text ?? '', count: Number(row?.count ?? 0), last: row?.last ?? null };
  });
}
