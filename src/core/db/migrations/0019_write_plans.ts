import { sql } from 'kysely';
import type { DB } from '../database.js';
import { WRITE_CUSTOMERS } from './0009/customer-numbers.js';
import { FULL_NAME_KEY } from './0018_customer_search.js';

/**
 * Plans of the write that stay key probes whatever the planner believes (migration 0004
 * says why a store looks like a few rows to it, and what a plan that reads a store costs).
 *
 * - The name index of migration 0018 held every live customer, so its predicate
 *   (`merged_into IS NULL`) was implied by the write's own update of a customer: on a
 *   store the statistics call small, the planner read the store through that index and
 *   filtered by id, for each customer written (seen: 600 buffers an update, and the upsert
 *   rate a quarter of what it was, within a minute of a store's first writes). It now
 *   holds the customers that have a name, which no write's statement implies; the search
 *   says so too (search.repository.ts).
 * - The two functions every write calls (clientele_write_customers, and what segments
 *   derive from it, clientele_write_derived) run each of their statements as index probes
 *   by the whole key (the lease of migration 0014 does the same): their joins are over the
 *   rows one batch writes, never over a store.
 * - Where they removed the rows the write names by joining them with the table (an
 *   identifier row, a customer's typed values, its memberships), they now remove them one
 *   by one by the whole key.
 * - The tables segments added key by store as the others do: store_id without statistics.
 */
export async function up(db: DB): Promise<void> {
  await sql`DROP INDEX customers_by_name_prefix`.execute(db);
  await sql`
    CREATE INDEX customers_by_name_prefix
      ON customers (store_id, (${sql.raw(FULL_NAME_KEY)}) COLLATE "C", id COLLATE "C")
      WHERE ${sql.raw(NAMED)}`.execute(db);
  await sql.raw(WRITE_CUSTOMERS_BY_KEY).execute(db);
  await sql.raw(WRITE_DERIVED).execute(db);
  await probesOnly(db);
  for (const table of ['customer_values', 'segment_members']) {
    await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN store_id SET STATISTICS 0`.execute(db);
  }
}

/**
 * Gives functions (by default the two write functions) the PROBES_ONLY settings. A
 * migration that replaces one (CREATE OR REPLACE resets a function's settings to those it
 * names: none) calls it again.
 */
export async function probesOnly(
  db: DB,
  functions = [
    'clientele_write_customers(text, jsonb, jsonb, text[], text[], text[], text[], text[], text[], jsonb)',
    'clientele_write_derived(text, bigint, jsonb, jsonb)',
  ],
): Promise<void> {
  for (const fn of functions) {
    for (const setting of PROBES_ONLY) {
      await sql.raw(`ALTER FUNCTION ${fn} SET ${setting} = off`).execute(db);
    }
  }
}

/** The customers the name index holds: live, with a first or a last name. */
export const NAMED = 'merged_into IS NULL AND (first_name IS NOT NULL OR last_name IS NOT NULL)';

/**
 * The plan settings under which a statement can only loop and probe indexes (a loop over a
 * materialised scan of the store is a read of the store too).
 */
export const PROBES_ONLY = [
  'enable_seqscan',
  'enable_bitmapscan',
  'enable_hashjoin',
  'enable_mergejoin',
  'enable_material',
] as const;

/**
 * Migration 0017's function, each statement keyed by the whole key of the row it touches,
 * one customer (or one value) at a time: a statement joining the rows sent with a table
 * lets the planner loop over the store (which it believes is a few rows, and a function's
 * plans are kept for its connection, perhaps from when the tables were empty) and probe
 * the rows sent, whatever the settings. Same arguments, same effects, same order of the
 * change records.
 */
export const WRITE_DERIVED = `
  CREATE OR REPLACE FUNCTION clientele_write_derived(
    p_store text, p_version bigint, p_values jsonb, p_members jsonb)
  RETURNS integer
  LANGUAGE plpgsql AS $$
  DECLARE
    current_version bigint;
    v record;
    w record;
    moved_ids text[] := '{}';
    moved_deltas integer[] := '{}';
    ids text[];
    deltas bigint[];
  BEGIN
    -- Held shared until the write commits (migration 0017 says why).
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('clientele segments ' || p_store, 0));
    SELECT segments_version INTO current_version FROM stores WHERE id = p_store;
    IF current_version IS DISTINCT FROM p_version THEN
      RAISE EXCEPTION USING ERRCODE = '40001',
        MESSAGE = format('the segments of store %s changed', p_store);
    END IF;

    FOR v IN SELECT * FROM jsonb_to_recordset(p_values)
        AS x(c text, f text, n float8, t text, b boolean, d timestamptz) LOOP
      IF v.n IS NULL AND v.t IS NULL AND v.b IS NULL AND v.d IS NULL THEN
        DELETE FROM customer_values
          WHERE store_id = p_store AND customer_id = v.c AND field = v.f;
      ELSE
        INSERT INTO customer_values (store_id, customer_id, field, num, txt, bool, ts)
          VALUES (p_store, v.c, v.f, v.n, v.t, v.b, v.d)
          ON CONFLICT (store_id, customer_id, field) DO UPDATE
          SET num = EXCLUDED.num, txt = EXCLUDED.txt, bool = EXCLUDED.bool, ts = EXCLUDED.ts;
      END IF;
    END LOOP;

    FOR w IN SELECT * FROM jsonb_to_recordset(p_members)
        AS m(c text, s text[], clear boolean, api text, k text, pv integer, v integer,
          at timestamptz)
        ORDER BY m.c LOOP
      IF w.clear THEN
        DELETE FROM customer_values WHERE store_id = p_store AND customer_id = w.c;
      END IF;
      WITH left_ AS (
        DELETE FROM segment_members
        WHERE store_id = p_store AND customer_id = w.c AND segment_id <> ALL (w.s)
        RETURNING segment_id
      ), joined AS (
        INSERT INTO segment_members (store_id, segment_id, customer_id, joined_at)
        SELECT p_store, s.id, w.c, w.at FROM unnest(w.s) AS s(id)
        ON CONFLICT DO NOTHING
        RETURNING segment_id
      ), moved AS (
        SELECT segment_id, 'segment_entered' AS type, 1 AS delta FROM joined
        UNION ALL
        SELECT segment_id, 'segment_exited', -1 FROM left_
      ), recorded AS (
        INSERT INTO customer_events (store_id, id, customer_id, type, api, key_id, changes,
            created_at, previous_version, version, segment_id)
        SELECT p_store, clientele_new_event_id(), w.c, mv.type, w.api, w.k, '{}',
          w.at, w.pv, w.v, mv.segment_id
        FROM moved AS mv
        ORDER BY mv.type DESC, mv.segment_id
      )
      SELECT moved_ids || coalesce(array_agg(segment_id), '{}'),
          moved_deltas || coalesce(array_agg(delta), '{}')
        INTO moved_ids, moved_deltas
        FROM moved;
    END LOOP;

    SELECT array_agg(segment_id ORDER BY segment_id), array_agg(d ORDER BY segment_id)
      INTO ids, deltas
      FROM (SELECT segment_id, sum(delta) AS d
            FROM unnest(moved_ids, moved_deltas) AS t(segment_id, delta)
            GROUP BY segment_id) AS t;

    -- In id order, so that writes moving the same counts never deadlock.
    FOR i IN 1..coalesce(array_length(ids, 1), 0) LOOP
      CONTINUE WHEN deltas[i] = 0;
      UPDATE segments SET member_count = member_count + deltas[i]
        WHERE store_id = p_store AND id = ids[i];
    END LOOP;
    RETURN coalesce(array_length(ids, 1), 0);
  END
  $$`;

/**
 * Migration 0009's function, its removal of identifier rows one row at a time by the whole
 * key (the join was planned with the store as its outer loop: see WRITE_DERIVED).
 */
export const WRITE_CUSTOMERS_BY_KEY = writeCustomers();

function writeCustomers(): string {
  const joined = `
      DELETE FROM customer_identifiers AS i
        USING unnest(p_removed_kind, p_removed_value, p_removed_customer) AS t(k, v, owner)
        WHERE i.store_id = p_store AND i.kind = t.k AND i.value = t.v AND i.customer_id = t.owner;
`;
  const oneByOne = `
      FOR i IN 1..coalesce(array_length(p_removed_kind, 1), 0) LOOP
        DELETE FROM customer_identifiers
          WHERE store_id = p_store AND kind = p_removed_kind[i] AND value = p_removed_value[i]
            AND customer_id = p_removed_customer[i];
      END LOOP;
`;
  if (!WRITE_CUSTOMERS.includes(joined))
    throw new Error('clientele_write_customers: no join to replace');
  return WRITE_CUSTOMERS.replace(joined, oneByOne);
}
