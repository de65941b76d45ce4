import type { DB } from '../db/database.js';
import { ClienteleError } from '../errors.js';
import { type Platform, platforms } from './settings.js';

/**
 * The names a platform's requests find a store by (`store_names`, migration 0009): its
 * id on every platform, and each alias on its own. The primary key (platform, name) is
 * what keeps a name to one store, however many claim it at once.
 */

/** A new store's id, on every platform. */
export async function nameNewStore(db: DB, storeId: string): Promise<void> {
  await db
    .insertInto('store_names')
    .values(platforms.map((platform) => ({ platform, name: storeId, store_id: storeId })))
    .execute();
}

/**
 * Moves a store's alias rows from `before` to `after`: the ones it dropped go, the new
 * ones are claimed, and a name another store holds (its id, or its alias on that
 * platform) is refused with 409 `alias_taken`. A claim racing another waits for it to
 * commit, then finds the name taken.
 */
export async function renameStore(
  db: DB,
  storeId: string,
  before: Partial<Record<Platform, string>>,
  after: Partial<Record<Platform, string>>,
): Promise<void> {
  for (const platform of platforms) {
    const old = before[platform];
    const alias = after[platform];
    if (old === alias) continue;
    if (old !== undefined && old !== storeId) {
      await db
        .deleteFrom('store_names')
        .where('platform', '=', platform)
        .where('name', '=', old)
        .where('store_id', '=', storeId)
        .execute();
    }
    if (alias === undefined) continue;
    await db
      .insertInto('store_names')
      .values({ platform, name: alias, store_id: storeId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const holder = await storeNamed(db, alias, platform);
    if (holder !== storeId) {
      const what = holder === alias ? "another store's id" : `another store's ${platform} alias`;
      throw new ClienteleError('alias_taken', `${alias} is ${what}.`, [
        {
          path: `/settings/aliases/${platform}`,
          message: `is ${what}; a name routes to one store`,
        },
      ]);
    }
  }
}

/** The store a platform's request names by its id or its alias there. */
export async function storeNamed(
  db: DB,
  name: string,
  platform: Platform,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('store_names')
    .select('store_id')
    .where('platform', '=', platform)
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.store_id;
}
