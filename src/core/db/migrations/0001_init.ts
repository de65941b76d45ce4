import { type Kysely, sql } from 'kysely';

/**
 * Every primary and unique key of a per-store table includes store_id (and here begins
 * with it), so that the tables can be distributed by store (Citus) without changing a
 * key. (Migration 0004 re-leads one unique index, customers_by_seq, with seq.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE stores (
      id text PRIMARY KEY,
      name text NOT NULL,
      settings jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE api_keys (
      store_id text NOT NULL REFERENCES stores (id),
      id text NOT NULL,
      key_hash text NOT NULL,
      key_prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      PRIMARY KEY (store_id, id)
    )`.execute(db);
  // Not unique: a unique key would have to begin with store_id, and a request carries
  // only the key. SHA-256 makes a collision a non-event.
  await sql`CREATE INDEX api_keys_by_hash ON api_keys (key_hash)`.execute(db);

  // Capillary and other integer-id clients need a stable integer per customer.
  await sql`CREATE SEQUENCE customer_seq`.execute(db);
  await sql`
    CREATE TABLE customers (
      store_id text NOT NULL REFERENCES stores (id),
      id text NOT NULL,
      seq bigint NOT NULL DEFAULT nextval('customer_seq'),
      external_id text,
      email text,
      phone_numbers text[] NOT NULL DEFAULT '{}',
      first_name text,
      last_name text,
      birthdate date,
      description text,
      active boolean NOT NULL DEFAULT true,
      location jsonb NOT NULL DEFAULT '{}',
      identifiers jsonb NOT NULL DEFAULT '[]',
      custom_fields jsonb NOT NULL DEFAULT '{}',
      metadata jsonb NOT NULL DEFAULT '{}',
      channels jsonb NOT NULL DEFAULT '[]',
      loyalty jsonb,
      version integer NOT NULL DEFAULT 1,
      merged_into text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (store_id, id)
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX customers_by_seq ON customers (store_id, seq)`.execute(db);

  // One row per identifier value: the unique key is what makes "one value, one customer".
  await sql`
    CREATE TABLE customer_identifiers (
      store_id text NOT NULL,
      kind text NOT NULL,
      value text NOT NULL,
      customer_id text NOT NULL,
      PRIMARY KEY (store_id, kind, value),
      FOREIGN KEY (store_id, customer_id) REFERENCES customers (store_id, id)
    )`.execute(db);
  await sql`CREATE INDEX customer_identifiers_by_customer ON customer_identifiers (store_id, customer_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE custom_fields (
      store_id text NOT NULL REFERENCES stores (id),
      name text NOT NULL,
      type text NOT NULL CHECK (type IN ('STRING', 'NUMBER', 'BOOLEAN', 'DATE')),
      option_count integer NOT NULL DEFAULT 0,
      options_truncated boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, name)
    )`.execute(db);

  await sql`
    CREATE TABLE custom_field_options (
      store_id text NOT NULL,
      field_name text NOT NULL,
      value text NOT NULL,
      PRIMARY KEY (store_id, field_name, value),
      FOREIGN KEY (store_id, field_name) REFERENCES custom_fields (store_id, name)
    )`.execute(db);

  await sql`
    CREATE TABLE customer_events (
      store_id text NOT NULL,
      id text NOT NULL,
      customer_id text NOT NULL,
      type text NOT NULL,
      api text NOT NULL,
      key_id text,
      changes jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (store_id, id)
    )`.execute(db);
  await sql`CREATE INDEX customer_events_by_customer ON customer_events (store_id, customer_id, id DESC)`.execute(
    db,
  );
}
