import { sql } from 'kysely';
import type { DB } from '../../database.js';

/**
 * Customer numbers (`customers.seq`, the integer ids Capillary shows) counted per store:
 * they came from one sequence for every store, so a store could tell from its own
 * customers' numbers how many other stores had created. `customer_numbers` holds each
 * store's last number; `clientele_write_customers` takes the next ones for all the
 * customers a call creates in one upsert of that row, whose lock then orders the
 * store's creating writes until they commit (a write that updates only takes none).
 * Existing numbers stay as they are: each store counts on from its highest.
 *
 * The column loses its default, so a customer can only be created with its store's
 * number.
 */
export async function numberCustomersPerStore(db: DB): Promise<void> {
  await sql`
    CREATE TABLE customer_numbers (
      store_id text PRIMARY KEY REFERENCES stores (id),
      last_seq bigint NOT NULL
    )`.execute(db);
  await sql`
    INSERT INTO customer_numbers (store_id, last_seq)
    SELECT store_id, max(seq) FROM customers GROUP BY store_id`.execute(db);
  await sql`ALTER TABLE customers ALTER COLUMN seq DROP DEFAULT`.execute(db);
  await sql`DROP SEQUENCE customer_seq`.execute(db);

  // The function of migration 0008, numbering the customers it creates per store.
  await sql.raw(WRITE_CUSTOMERS).execute(db);
}

/** clientele_write_customers as this migration leaves it (migration 0019 builds on it). */
export const WRITE_CUSTOMERS = `
    CREATE OR REPLACE FUNCTION clientele_write_customers(
      p_store text, p_created jsonb, p_updated jsonb,
      p_removed_kind text[], p_removed_value text[], p_removed_customer text[],
      p_added_kind text[], p_added_value text[], p_added_customer text[],
      p_events jsonb)
    RETURNS TABLE (written_id text, written_seq bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
      u record;
      v_created integer := jsonb_array_length(p_created);
      v_last bigint := 0;
    BEGIN
      -- The store's next numbers, taken together for every customer this call creates.
      IF v_created > 0 THEN
        INSERT INTO customer_numbers AS n (store_id, last_seq) VALUES (p_store, v_created)
          ON CONFLICT (store_id) DO UPDATE SET last_seq = n.last_seq + EXCLUDED.last_seq
          RETURNING n.last_seq INTO v_last;
      END IF;

      RETURN QUERY
        INSERT INTO customers AS c (store_id, id, seq, external_id, email, phone_numbers, first_name,
          last_name, birthdate, description, active, location, identifiers, custom_fields, metadata,
          channels, loyalty, version, created_at, updated_at)
        SELECT p_store, r.id, v_last - v_created + row_number() OVER (), r.external_id, r.email,
          r.phone_numbers, r.first_name, r.last_name, r.birthdate, r.description, r.active, r.location, r.identifiers, r.custom_fields,
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
    $$`;
