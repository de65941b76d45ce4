import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * Webhooks (docs/webhooks.md). An endpoint reads its store's event feed from its own
 * place in it (`cursor_tx`, `cursor_position`, the feed's order of migration 0011) and
 * turns each event it takes into a delivery; deliveries are leased by whichever process
 * is free (`FOR UPDATE SKIP LOCKED`), and each attempt is logged. Signing secrets are
 * stored encrypted (AES-256-GCM under the server's secret key), never in clear.
 */
export async function up(db: DB): Promise<void> {
  await sql`
    CREATE TABLE webhook_endpoints (
      store_id text NOT NULL,
      id text NOT NULL,
      url text NOT NULL,
      events text[] NOT NULL,
      description text,
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      secret text NOT NULL,
      previous_secret text,
      previous_secret_until timestamptz,
      failing_since timestamptz,
      cursor_tx xid8 NOT NULL,
      cursor_position bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, id)
    )`.execute(db);
  await sql`
    CREATE TABLE webhook_deliveries (
      store_id text NOT NULL,
      id text NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      endpoint_id text NOT NULL,
      event_id text NOT NULL,
      customer_id text NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      leased_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (store_id, id),
      FOREIGN KEY (store_id, endpoint_id) REFERENCES webhook_endpoints (store_id, id)
        ON DELETE CASCADE
    )`.execute(db);
  // What a sender looks for: pending deliveries that are due; and, per endpoint and
  // customer, whether an older one is still pending (a customer's events go in order).
  await sql`
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq)
      WHERE status = 'pending'`.execute(db);
  await sql`
    CREATE INDEX webhook_deliveries_by_customer
      ON webhook_deliveries (store_id, endpoint_id, customer_id, seq)
      WHERE status = 'pending'`.execute(db);
  await sql`
    CREATE TABLE webhook_attempts (
      store_id text NOT NULL,
      id text NOT NULL,
      endpoint_id text NOT NULL,
      delivery_id text,
      event_id text NOT NULL,
      event_type text NOT NULL,
      attempt integer NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      status_code integer,
      latency_ms integer NOT NULL,
      response text,
      error text,
      PRIMARY KEY (store_id, id),
      FOREIGN KEY (store_id, endpoint_id) REFERENCES webhook_endpoints (store_id, id)
        ON DELETE CASCADE
    )`.execute(db);
  await sql`
    CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (store_id, endpoint_id, id DESC)`.execute(
    db,
  );
}
