import { sql } from 'kysely';
import type { DB } from '../../database.js';

/** The platforms of this release; a later one adds its rows in a migration of its own. */
const platforms = ['redo', 'yotpo', 'capillary', 'cheqpay', 'voucherify'];

/**
 * `store_names`: every name that routes a platform's requests to a store, one row each,
 * keyed by the platform and the name, so the database itself refuses a second store the
 * same name: a store's id (on every platform) and each of its aliases (on its own).
 * Aliases set before this migration are taken in the order the stores were created; one
 * that names another store already (its id, or an older store's alias) is dropped from
 * its store's settings, where it routed to either store at random, and listed in
 * `identity_collisions`.
 */
export async function createStoreNames(db: DB): Promise<void> {
  await sql`
    CREATE TABLE store_names (
      platform text NOT NULL,
      name text NOT NULL,
      store_id text NOT NULL REFERENCES stores (id),
      PRIMARY KEY (platform, name)
    )`.execute(db);
  await sql`CREATE INDEX store_names_by_store ON store_names (store_id)`.execute(db);
  await sql`
    INSERT INTO store_names (platform, name, store_id)
    SELECT p.platform, s.id, s.id FROM stores AS s, unnest(${platforms}::text[]) AS p(platform)`.execute(
    db,
  );

  const { rows: stores } = await sql<{ id: string; aliases: Record<string, unknown> | null }>`
    SELECT id, settings -> 'aliases' AS aliases FROM stores
    WHERE jsonb_typeof(settings -> 'aliases') = 'object'
    ORDER BY created_at, id`.execute(db);
  for (const store of stores) {
    for (const [platform, alias] of Object.entries(store.aliases ?? {})) {
      if (typeof alias !== 'string' || !platforms.includes(platform)) continue;
      const { rows: holder } = await sql<{ store_id: string }>`
        WITH claimed AS (
          INSERT INTO store_names (platform, name, store_id) VALUES (${platform}, ${alias}, ${store.id})
          ON CONFLICT DO NOTHING RETURNING store_id)
        SELECT store_id FROM claimed
        UNION ALL
        SELECT store_id FROM store_names WHERE platform = ${platform} AND name = ${alias}`.execute(
        db,
      );
      const owner = holder[0]?.store_id;
      if (owner === undefined || owner === store.id) continue;
      await sql`
        UPDATE stores SET settings = settings #- ${`{aliases,${platform}}`}::text[]
        WHERE id = ${store.id}`.execute(db);
      await sql`
        INSERT INTO identity_collisions (store_id, kind, value, holders, stored_values)
        VALUES (${store.id}, ${`alias:${platform}`}, ${alias}, ${[owner]}, ${[alias]})
        ON CONFLICT DO NOTHING`.execute(db);
    }
  }
}
