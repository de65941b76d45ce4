import { sql } from 'kysely';
import type { DB } from '../database.js';

/**
 * API keys that can be found again: the name given when a key is made (null for keys
 * made before, and when none is given), and when it was last used (recorded at most
 * once a minute per key, off the request path: see stores/key-usage.ts).
 */
export async function up(db: DB): Promise<void> {
  await sql`ALTER TABLE api_keys ADD COLUMN name text, ADD COLUMN last_used_at timestamptz`.execute(
    db,
  );
}
