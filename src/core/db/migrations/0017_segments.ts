import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Segments (docs/architecture.md, "Segments"):
 *
 * - `customer_values`: each custom field value of each customer in a typed column (num,
 *   txt, bool, ts), with a btree index per type led by (store_id, field), so that a
 *   range over a custom field is an index range; a JSONB GIN index serves equality and
 *   containment only. Written with the customer, in the write's own statement, from its
 *   change record (`clientele_write_derived`). Existing customers are backfilled here.
 * - `segments`: a store's saved filters, each with its member count (kept in the same
 *   statement as every membership change, so it is exact and costs one row to read).
 * - `segment_members`: who is in each segment since when; by customer too.
 * - `segment_schedule`: when each segment whose filter moves with the clock was last
 *   evaluated; its rows are the lease of the re-evaluation job (FOR UPDATE SKIP LOCKED).
 * - `stores.segments_version`: moves with every change to a store's segments. A write
 *   states the version its memberships were computed at and takes the store's row FOR
 *   SHARE; a write computed at another version fails (40001) and is computed again, and
 *   a segment being built holds the row (FOR UPDATE) until its members are written.
 * - `customer_events.segment_id`: entering and leaving a segment are change records of
 *   their own (`segment_entered`, `segment_exited`).
 */
export async function up(db: DB): Promise<void> {
  await sql`ALTER TABLE stores ADD COLUMN segments_version bigint NOT NULL DEFAULT 0`.execute(db);
  await sql`ALTER TABLE customer_events ADD COLUMN segment_id text`.execute(db);

  await sql`
    CREATE TABLE customer_values (
      store_id text NOT NULL,
      customer_id text NOT NULL,
      field text NOT NULL,
      num float8,
      txt text,
      bool boolean,
      ts timestamptz,
      PRIMARY KEY (store_id, customer_id, field)
    )`.execute(db);
  // The customer id closes each index, so that a count over a range reads the index alone.
  await sql`
    CREATE INDEX customer_values_by_num ON customer_values (store_id, field, num, customer_id)
      WHERE num IS NOT NULL`.execute(db);
  // A btree entry holds at most ~2.7 kB and a STRING value may hold 2,048 characters of
  // up to 4 bytes: the index holds its first 200 (compile.ts, INDEXED_PREFIX).
  await sql`
    CREATE INDEX customer_values_by_txt
      ON customer_values (store_id, field, left(txt, 200), customer_id)
      WHERE txt IS NOT NULL`.execute(db);
  await sql`
    CREATE INDEX customer_values_by_bool ON customer_values (store_id, field, bool, customer_id)
      WHERE bool IS NOT NULL`.execute(db);
  await sql`
    CREATE INDEX customer_values_by_ts ON customer_values (store_id, field, ts, customer_id)
      WHERE ts IS NOT NULL`.execute(db);

  await sql`
    INSERT INTO customer_values (store_id, customer_id, field, num, txt, bool, ts)
    SELECT c.store_id, c.id, f.key,
      CASE WHEN jsonb_typeof(f.value) = 'number' THEN (f.value #>> '{}')::float8 END,
      CASE WHEN jsonb_typeof(f.value) = 'string' THEN f.value #>> '{}' END,
      CASE WHEN jsonb_typeof(f.value) = 'boolean' THEN (f.value #>> '{}')::boolean END,
      CASE WHEN d.type = 'DATE' AND jsonb_typeof(f.value) = 'string'
        THEN (f.value #>> '{}')::timestamptz END
    FROM customers AS c
    CROSS JOIN LATERAL jsonb_each(c.custom_fields) AS f
    JOIN custom_fields AS d ON d.store_id = c.store_id AND d.name = f.key
    WHERE c.merged_into IS NULL AND jsonb_typeof(f.value) <> 'null'`.execute(db);

  await sql`
    CREATE TABLE segments (
      store_id text NOT NULL REFERENCES stores (id),
      id text NOT NULL,
      name text NOT NULL,
      filter jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('building', 'ready')),
      member_count bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (store_id, id)
    )`.execute(db);
  await sql`
    CREATE TABLE segment_members (
      store_id text NOT NULL,
      segment_id text NOT NULL,
      customer_id text NOT NULL,
      joined_at timestamptz NOT NULL,
      PRIMARY KEY (store_id, segment_id, customer_id)
    )`.execute(db);
  await sql`
    CREATE INDEX segment_members_by_customer ON segment_members (store_id, customer_id)`.execute(
    db,
  );
  await sql`
    CREATE TABLE segment_schedule (
      store_id text NOT NULL,
      segment_id text NOT NULL,
      evaluated_at timestamptz NOT NULL,
      PRIMARY KEY (store_id, segment_id)
    )`.execute(db);
  await sql`CREATE INDEX segment_schedule_due ON segment_schedule (evaluated_at)`.execute(db);

  // An event id as ids.ts makes them (evt_ and a ULID: 48 bits of ms, 80 random bits),
  // for the records the database writes itself.
  await sql`
    CREATE FUNCTION clientele_new_event_id() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
      alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
      ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
      id text := '';
    BEGIN
      FOR i IN 1..10 LOOP
        id := substr(alphabet, (ms % 32)::int + 1, 1) || id;
        ms := ms / 32;
      END LOOP;
      FOR i IN 1..16 LOOP
        id := id || substr(alphabet, floor(random() * 32)::int + 1, 1);
      END LOOP;
      RETURN 'evt_' || id;
    END
    $$`.execute(db);

  // What a write derives beyond the customer's row (segments/derive.ts makes the rows):
  // - p_values: [{c, f, n, t, b, d}] each custom field the write changed, with its new
  //   typed value (all null: cleared);
  // - p_members: [{c, s, clear, api, k, pv, v, at}] each customer written, with every
  //   segment of the store it is now in (s), at segments version p_version; clear: its
  //   typed values go (merged away or erased). Memberships not in s end, those in s
  //   begin; each is a change record and moves its segment's count.
  await sql`
    CREATE FUNCTION clientele_write_derived(
      p_store text, p_version bigint, p_values jsonb, p_members jsonb)
    RETURNS integer
    LANGUAGE plpgsql AS $$
    DECLARE
      current_version bigint;
      ids text[];
      deltas bigint[];
    BEGIN
      -- Held shared until the write commits: a change to the store's segments takes it
      -- alone (bumpVersion), so it waits for the writes in flight, and the writes after it
      -- wait for it, then see its version. An advisory lock, not FOR SHARE on the store's
      -- row: every write share-locking one row made a multixact of it each time, and
      -- halved the upsert rate.
      PERFORM pg_advisory_xact_lock_shared(hashtextextended('clientele segments ' || p_store, 0));
      SELECT segments_version INTO current_version FROM stores WHERE id = p_store;
      IF current_version IS DISTINCT FROM p_version THEN
        RAISE EXCEPTION USING ERRCODE = '40001',
          MESSAGE = format('the segments of store %s changed', p_store);
      END IF;

      DELETE FROM customer_values AS cv
        USING jsonb_to_recordset(p_values) AS x(c text, f text)
        WHERE cv.store_id = p_store AND cv.customer_id = x.c AND cv.field = x.f;
      DELETE FROM customer_values AS cv
        USING jsonb_to_recordset(p_members) AS m(c text, clear boolean)
        WHERE m.clear AND cv.store_id = p_store AND cv.customer_id = m.c;
      INSERT INTO customer_values (store_id, customer_id, field, num, txt, bool, ts)
        SELECT p_store, x.c, x.f, x.n, x.t, x.b, x.d
        FROM jsonb_to_recordset(p_values)
          AS x(c text, f text, n float8, t text, b boolean, d timestamptz)
        WHERE x.n IS NOT NULL OR x.t IS NOT NULL OR x.b IS NOT NULL OR x.d IS NOT NULL;

      WITH m AS (
        SELECT * FROM jsonb_to_recordset(p_members)
          AS m(c text, s text[], api text, k text, pv integer, v integer, at timestamptz)
      ), left_ AS (
        DELETE FROM segment_members AS sm USING m
        WHERE sm.store_id = p_store AND sm.customer_id = m.c AND sm.segment_id <> ALL (m.s)
        RETURNING sm.segment_id, sm.customer_id
      ), joined AS (
        INSERT INTO segment_members (store_id, segment_id, customer_id, joined_at)
        SELECT p_store, s.id, m.c, m.at FROM m CROSS JOIN LATERAL unnest(m.s) AS s(id)
        ON CONFLICT DO NOTHING
        RETURNING segment_id, customer_id
      ), moved AS (
        SELECT segment_id, customer_id, 'segment_entered' AS type, 1 AS delta FROM joined
        UNION ALL
        SELECT segment_id, customer_id, 'segment_exited', -1 FROM left_
      ), recorded AS (
        INSERT INTO customer_events (store_id, id, customer_id, type, api, key_id, changes,
            created_at, previous_version, version, segment_id)
        SELECT p_store, clientele_new_event_id(), mv.customer_id, mv.type, m.api, m.k, '{}',
          m.at, m.pv, m.v, mv.segment_id
        FROM moved AS mv JOIN m ON m.c = mv.customer_id
        ORDER BY mv.customer_id, mv.type DESC, mv.segment_id
      )
      SELECT array_agg(segment_id ORDER BY segment_id), array_agg(d ORDER BY segment_id)
        INTO ids, deltas
        FROM (SELECT segment_id, sum(delta) AS d FROM moved GROUP BY segment_id) AS t;

      -- In id order, so that writes moving the same counts never deadlock.
      FOR i IN 1..coalesce(array_length(ids, 1), 0) LOOP
        CONTINUE WHEN deltas[i] = 0;
        UPDATE segments SET member_count = member_count + deltas[i]
          WHERE store_id = p_store AND id = ids[i];
      END LOOP;
      RETURN coalesce(array_length(ids, 1), 0);
    END
    $$`.execute(db);
}
