import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * The history becomes the change record (docs/architecture.md, "The change record"):
 *
 * - `version` and `previous_version`: the customer's version after and before the write
 *   (records written before this migration have none: null);
 * - `position`: a store's records in the order they were written, for readers that
 *   resume "after record N" (segments, webhooks). One sequence for every store, so that
 *   writing it costs no lock; `(store_id, position)` is unique and indexed. Existing
 *   records are numbered in id order, which is their order of creation.
 *
 * `clientele_write_customers` writes the two versions it is given for each record.
 */
export async function up(db: DB): Promise<void> {
  await sql`CREATE SEQUENCE customer_events_position_seq AS bigint`.execute(db);
  await sql`
    ALTER TABLE customer_events
      ADD COLUMN previous_version integer,
      ADD COLUMN version integer,
      ADD COLUMN position bigint`.execute(db);
  await sql`
    UPDATE customer_events AS e SET position = o.n
    FROM (SELECT store_id, customer_id, id, row_number() OVER (ORDER BY id) AS n
          FROM customer_events) AS o
    WHERE e.store_id = o.store_id AND e.customer_id = o.customer_id AND e.id = o.id`.execute(db);
  await sql`
    SELECT setval('customer_events_position_seq', coalesce(max(position), 0) + 1, false)
    FROM customer_events`.execute(db);
  await sql`
    ALTER TABLE customer_events
      ALTER COLUMN position SET DEFAULT nextval('customer_events_position_seq'),
      ALTER COLUMN position SET NOT NULL`.execute(db);
  await sql`ALTER SEQUENCE customer_events_position_seq OWNED BY customer_events.position`.execute(
    db,
  );
  await sql`
    CREATE UNIQUE INDEX customer_events_by_position ON customer_events (store_id, position)`.execute(
    db,
  );

  // The function of migration 0005, with the records' versions.
  await sql`
    CREATE OR REPLACE FUNCTION clientele_write_customers(
      p_store text, p_created jsonb, p_updated jsonb,
      p_removed_kind text[], p_removed_value text[], p_removed_customer text[],
      p_added_kind text[], p_added_value text[], p_added_customer text[],
      p_events jsonb)
    RETURNS TABLE (written_id text, written_seq bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
      u record;
    BEGIN
      RETURN QUERY
        INSERT INTO customers AS c (store_id, id, external_id, email, phone_numbers, first_name,
          last_name, birthdate, description, active, location, identifiers, custom_fields, metadata,
          channels, loyalty, version, created_at, updated_at)
        SELECT p_store, r.id, r.external_id, r.email, r.phone_numbers, r.first_name, r.last_name,
          r.birthdate, r.description, r.active, r.location, r.identifiers, r.custom_fields,
          r.metadata, r.channels, r.loyalty, r.version, r.now, r.now
        FROM jsonb_to_recordset(p_created) AS r(id text, external_id text, email text,
          phone_numbers text[], first_name text, last_name text, birthdate date, description text,
          active boolean, location jsonb, identifiers jsonb, custom_fields jsonb, metadata jsonb,
          channels jsonb, loyalty jsonb, version integer, now timestamptz)
        RETURNING c.id, c.seq;

      -- One statement per customer, on the whole primary key: a plan that cannot turn
      -- into a read of the store, whatever the planner believes about its size.
      FOR u IN
        SELECT * FROM jsonb_to_recordset(p_updated) AS x(id text, external_id text, email text,
          phone_numbers text[], first_name text, last_name text, birthdate date, description text,
          active boolean, location jsonb, identifiers jsonb, custom_fields jsonb, metadata jsonb,
          channels jsonb, loyalty jsonb, version integer, read_version integer, now timestamptz)
      LOOP
        UPDATE customers AS c SET external_id = u.external_id, email = u.email,
          phone_numbers = u.phone_numbers, first_name = u.first_name, last_name = u.last_name,
          birthdate = u.birthdate, description = u.description, active = u.active,
          location = u.location, identifiers = u.identifiers, custom_fields = u.custom_fields,
          metadata = u.metadata, channels = u.channels, loyalty = u.loyalty,
          version = u.version, updated_at = u.now
        WHERE c.store_id = p_store AND c.id = u.id
          AND c.version = u.read_version AND c.merged_into IS NULL
        RETURNING c.id, c.seq INTO written_id, written_seq;
        IF NOT FOUND THEN
          RAISE EXCEPTION USING ERRCODE = '40001',
            MESSAGE = format('customer %s changed since it was read', u.id);
        END IF;
        RETURN NEXT;
      END LOOP;

      DELETE FROM customer_identifiers AS i
        USING unnest(p_removed_kind, p_removed_value, p_removed_customer) AS t(k, v, owner)
        WHERE i.store_id = p_store AND i.kind = t.k AND i.value = t.v AND i.customer_id = t.owner;

      INSERT INTO customer_identifiers (store_id, kind, value, customer_id)
        SELECT p_store, t.k, t.v, t.owner
        FROM unnest(p_added_kind, p_added_value, p_added_customer) AS t(k, v, owner);

      INSERT INTO customer_events (store_id, id, customer_id, type, api, key_id, changes,
          created_at, previous_version, version)
        SELECT p_store, e.id, e.customer_id, e.type, e.api, e.key_id, e.changes, e.created_at,
          e.previous_version, e.version
        FROM jsonb_to_recordset(p_events) AS e(id text, customer_id text, type text, api text,
          key_id text, changes jsonb, created_at timestamptz, previous_version integer,
          version integer);
    END
    $$`.execute(db);
}
