import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { type DB, inTransaction } from '../db/database.js';
import { ClienteleError, fail } from '../errors.js';
import { newId } from '../ids.js';
import { displayPrefix, generateApiKey, hashApiKey } from './api-keys.js';
import type { Caller } from './caller.js';
import { REVOCATION_CHANNEL } from './revocations.repository.js';
import { mergeSettings, type Platform, type StoreSettings, settingsFromRow } from './settings.js';
import { nameNewStore, renameStore, storeNamed } from './store-names.repository.js';

export interface Store {
  id: string;
  name: string;
  settings: StoreSettings;
  createdAt: string;
  updatedAt: string;
}

export interface CreatedKey {
  id: string;
  apiKey: string;
}

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

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 255) {
    throw fail.field('/name', 'must be a non-empty string of at most 255 characters');
  }
  return name.trim();
}

export async function createStore(db: DB, name: string): Promise<Store & { apiKey: string }> {
  const storeName = checkName(name);
  return inTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('stores')
      .values({ id: newId('sto'), name: storeName, settings: '{}' })
      .returningAll()
      .executeTakeFirstOrThrow();
    await nameNewStore(trx, row.id);
    const key = await insertKey(trx, row.id);
    return { ...rowToStore(row), apiKey: key.apiKey };
  });
}

async function insertKey(db: DB, storeId: string): Promise<CreatedKey> {
  const apiKey = generateApiKey();
  const id = newId('key');
  await db
    .insertInto('api_keys')
    .values({
      store_id: storeId,
      id,
      key_hash: hashApiKey(apiKey),
      key_prefix: displayPrefix(apiKey),
    })
    .execute();
  return { id, apiKey };
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

export async function createKey(db: DB, storeId: string): Promise<CreatedKey> {
  await getStore(db, storeId);
  return insertKey(db, storeId);
}

export async function revokeKey(db: DB, storeId: string, keyId: string): Promise<void> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('store_id', '=', storeId)
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    throw new ClienteleError('api_key_not_found', `No active key ${keyId} in this store.`);
  }
  // Every process that remembers this key forgets it now.
  await sql`SELECT pg_notify(${REVOCATION_CHANNEL}, ${keyId})`.execute(db);
}

/** The caller a presented key stands for, or undefined for an unknown or revoked key. */
export async function authenticateKey(db: DB, keyHash: string): Promise<Caller | undefined> {
  // Looking the key up by its hash means its secret never meets a variable-time comparison.
  const row = await db
    .selectFrom('api_keys')
    .select(['store_id', 'id'])
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { storeId: row.store_id, keyId: row.id } : undefined;
}

/**
 * On an empty database, creates a store with one key; otherwise nothing. Several
 * processes starting at once create it once.
 */
export async function createFirstStore(
  db: DB,
  name: string,
): Promise<(Store & { apiKey: string }) | undefined> {
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

/** How long an exchanged access token lives. */
const ACCESS_TOKEN_TTL_MS = 60 * 60 * 1000;

/** Exchanges a valid store key for a short-lived access token (shown once, stored hashed). */
export async function createAccessToken(
  db: DB,
  caller: Caller,
): Promise<{ accessToken: string; expiresAt: string }> {
  const accessToken = `at_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + ACCESS_TOKEN_TTL_MS);
  await db
    .insertInto('access_tokens')
    .values({
      store_id: caller.storeId,
      id: newId('tok'),
      token_hash: hashApiKey(accessToken),
      key_id: caller.keyId,
      expires_at: expiresAt,
    })
    .execute();
  return { accessToken, expiresAt: expiresAt.toISOString() };
}

/** The caller an access token stands for: unexpired, and its key not revoked. */
export async function authenticateAccessToken(db: DB, token: string): Promise<Caller | undefined> {
  const row = await db
    .selectFrom('access_tokens as t')
    .innerJoin('api_keys as k', (j) =>
      j.onRef('k.store_id', '=', 't.store_id').onRef('k.id', '=', 't.key_id'),
    )
    .select(['t.store_id', 't.key_id'])
    .where('t.token_hash', '=', hashApiKey(token))
    .where('t.expires_at', '>', new Date())
    .where('k.revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { storeId: row.store_id, keyId: row.key_id } : undefined;
}
