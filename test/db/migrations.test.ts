import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { engineForFile } from '../helpers/database.js';

/**
 * Migration numbers are handed out before the changes that bring them merge, so one can
 * arrive after higher numbers were applied: 0010 (API key names) merged after
 * 0011-0013. A database a build without 0010 migrated must take it, not refuse to start.
 */
const engine = engineForFile();

it('applies a migration whose number is below ones already applied', async () => {
  // The database as a build without 0010 left it: 0011 and later applied, 0010 not.
  await sql`DELETE FROM kysely_migration WHERE name = '0010_api_key_names'`.execute(
    engine.clientele.db,
  );
  await sql`ALTER TABLE api_keys DROP COLUMN name, DROP COLUMN last_used_at`.execute(
    engine.clientele.db,
  );
  const later = await sql<{ name: string }>`
    SELECT name FROM kysely_migration WHERE name > '0010' ORDER BY name`.execute(
    engine.clientele.db,
  );
  expect(later.rows.length).toBeGreaterThan(0);

  expect(await engine.clientele.migrate()).toEqual(['0010_api_key_names']);
  expect(await engine.clientele.ready()).toBe(true);
  const store = await engine.clientele.stores.create('After the late migration');
  const key = await engine.clientele.keys.create(store.id, 'named');
  expect(key.name).toBe('named');
  expect(await engine.clientele.migrate()).toEqual([]);
});

it('0030 keeps the typed values of every store made before it; a store made after keeps none yet', async () => {
  await sql`DELETE FROM kysely_migration WHERE name = '0030_values_on_demand'`.execute(
    engine.clientele.db,
  );
  await sql`ALTER TABLE stores DROP COLUMN values_status, DROP COLUMN values_cursor`.execute(
    engine.clientele.db,
  );
  const before = await engine.clientele.stores.create('Before 0030');
  expect(await engine.clientele.migrate()).toEqual(['0030_values_on_demand']);
  const after = await engine.clientele.stores.create('After 0030');
  const { rows } = await sql<{ id: string; values_status: string }>`
    SELECT id, values_status FROM stores WHERE id IN (${before.id}, ${after.id})`.execute(
    engine.clientele.db,
  );
  expect(Object.fromEntries(rows.map((r) => [r.id, r.values_status]))).toEqual({
    [before.id]: 'kept',
    [after.id]: 'off',
  });
});
