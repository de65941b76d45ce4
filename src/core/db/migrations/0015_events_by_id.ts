import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * An event found by its id within its store: where a feed reader resumes
 * (`after=evt_…`), and what a webhook delivery sends. The primary key leads with the
 * customer, so without this index each of those reads the store's whole history. It
 * leads with the id: led by the store, it would serve a customer's history (the store,
 * then ids in order) well enough for the planner to choose it over the primary key.
 */
export async function up(db: DB): Promise<void> {
  await sql`CREATE INDEX customer_events_by_id ON customer_events (id, store_id)`.execute(db);
}
