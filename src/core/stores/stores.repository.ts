import { sql } from 'kysely';
import { type DB, inTransaction } from '../db/database.js';
import { fail } from '../errors.js';
import { newId } from '../ids.js';
import { insertKey } from './keys.repository.js';
import { mergeSettings, type Platform, type StoreSettings, settingsFromRow } from './settings.js';
import { nameNewStore, renameStore, storeNamed } from './store-names.repository.js';

export interface Store {
  id: string;
  name: string;
  settings: StoreSettings;
  createdAt: string;
  updatedAt: string;
}

/** A store just made, with its first key: the one time that key's secret is shown. */
export type CreatedStore = Store & { apiKey: string; apiKeyId: string };

export type { Caller } from './caller.js';

function rowToStore(row: {
  id: string;
  name: string;
  settings: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}): Store {
  return {
    id: row.id,
    name: row.name,
    settings: settingsFromRow(row.settings),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A store's or a key's name, trimmed, or a 400 naming `/name`. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 255) {
    throw fail.field('/name', 'must be a non-empty string of at most 255 characters');
  }
  return name.trim();
}

export async function createStore(db: DB, name: string): Promise<CreatedStore> {
  const storeName = checkName(name);
  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('stores')
      .values({ id: newId('sto'), name: storeName, settings: '{}' })
      .returningAll()
      .executeTakeFirstOrThrow();
    await nameNewStore(trx, row.id);
    const key = await insertKey(trx, row.id);
    return { ...rowToStore(row), apiKey: key.apiKey, apiKeyId: key.id };
  });
}

export async function getStore(db: DB, storeId: string): Promise<Store> {
  const row = await db
    .selectFrom('stores')
    .selectAll()
    .where('id', '=', storeId)
    .executeTakeFirst();
  if (!row) throw fail.storeNotFound();
  return rowToStore(row);
}

/** Stores newest first, from before `before` (a store id). */
export async function listStores(
  db: DB,
  limit: number,
  before: string | undefined,
): Promise<Store[]> {
  let q = db.selectFrom('stores').selectAll();
  if (before) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map(rowToStore);
}

export async function updateStore(
  db: DB,
  storeId: string,
  change: { name?: string; settings?: Record<string, unknown> },
): Promise<Store> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('stores')
      .selectAll()
      .where('id', '=', storeId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw fail.storeNotFound();
    const name = change.name === undefined ? row.name : checkName(change.name);
    const settings = change.settings
      ? mergeSettings(settingsFromRow(row.settings), change.settings)
      : settingsFromRow(row.settings);
    await renameStore(trx, storeId, settingsFromRow(row.settings).aliases, settings.aliases);
    const updated = await trx
      .updateTable('stores')
      .set({ name, settings: JSON.stringify(settings), updated_at: new Date() })
      .where('id', '=', storeId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToStore(updated);
  });
}

/** Finds a store by its id or by its alias on a platform. */
export function findStoreByIdOrAlias(
  db: DB,
  idOrAlias: string,
  platform: Platform,
): Promise<string | undefined> {
  return storeNamed(db, idOrAlias, platform);
}

/**
 * On an empty database, creates a store with one key; otherwise nothing. Several
 * processes starting at once create it once.
 */
export async function createFirstStore(db: DB, name: string): Promise<CreatedStore | undefined> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended('clientele:bootstrap', 0))`.execute(
      trx,
    );
    const row = await trx
      .selectFrom('stores')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(row.n) > 0) return undefined;
    return createStore(trx, name);
  });
}
