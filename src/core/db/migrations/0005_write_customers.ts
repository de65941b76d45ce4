import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * `clientele_write_customers`: writes many customers, their identifier changes and
 * their history events in one call. As a function its statements are planned once per
 * connection, not on every call, and they run in a fixed order (identifiers released
 * before others are claimed). It writes all or nothing: an update applies only to the
 * version it was computed from (`read_version`), and if any customer has moved on it
 * raises a serialization failure (40001); a value claimed meanwhile raises 23505.
 *
 * Customers come as JSON arrays of records (the columns of `customers`, `version` the
 * version to write, `read_version` the version an update was computed from, and `now`
 * the time of the write); identifier changes as parallel
 * arrays; events as a JSON array of `customer_events` records. Returns the id and seq of
 * every customer written.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE FUNCTION clientele_write_customers(
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

      INSERT INTO customer_events (store_id, id, customer_id, type, api, key_id, changes, created_at)
        SELECT p_store, e.id, e.customer_id, e.type, e.api, e.key_id, e.changes, e.created_at
        FROM jsonb_to_recordset(p_events) AS e(id text, customer_id text, type text, api text,
          key_id text, changes jsonb, created_at timestamptz);
    END
    $$`.execute(db);
}
