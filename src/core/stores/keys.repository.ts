import { sql } from 'kysely';
import type { DB } from '../db/database.js';
import { ClienteleError } from '../errors.js';
import { newId } from '../ids.js';
import {
  displayPrefix,
  generateAccessToken,
  generateApiKey,
  hashApiKey,
  storeOfSecret,
} from './api-keys.js';
import type { Caller } from './caller.js';
import { REVOCATION_CHANNEL } from './revocations.repository.js';

/** A key just made: the one time its secret is shown. */
export interface CreatedKey {
  id: string;
  name: string | null;
  apiKey: string;
  createdAt: string;
}

/** A key as a list shows it: never its secret, nor the secret's hash. */
export interface ApiKey {
  id: string;
  name: string | null;
  /** The key's first characters (`ck_AbCd`), to tell it apart; not a secret. */
  prefix: string;
  createdAt: string;
  /** When a request last used it, to within a minute; null when none has. */
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export async function insertKey(
  db: DB,
  storeId: string,
  name: string | null = null,
): Promise<CreatedKey> {
  const apiKey = generateApiKey(storeId);
  const row = await db
    .insertInto('api_keys')
    .values({
      store_id: storeId,
      id: newId('key'),
      name,
      key_hash: hashApiKey(apiKey),
      key_prefix: displayPrefix(apiKey),
    })
    .returning(['id', 'name', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, name: row.name, apiKey, createdAt: row.created_at.toISOString() };
}

/** A store's keys, newest first, from before `before` (a key id), revoked ones included. */
export async function listKeys(
  db: DB,
  storeId: string,
  limit: number,
  before: string | undefined,
): Promise<ApiKey[]> {
  let q = db
    .selectFrom('api_keys')
    .select(['id', 'name', 'key_prefix', 'created_at', 'last_used_at', 'revoked_at'])
    .where('store_id', '=', storeId);
  if (before) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    prefix: row.key_prefix,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  }));
}

/**
 * Records that a store's keys were used at `at`; a key another process recorded less
 * than a minute before is left as it is, so a fleet writes a key about once a minute.
 */
export async function recordKeysUsed(
  db: DB,
  storeId: string,
  keyIds: string[],
  at: Date,
): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: at })
    .where('store_id', '=', storeId)
    .where('id', 'in', keyIds)
    .where((eb) =>
      eb.or([
        eb('last_used_at', 'is', null),
        eb('last_used_at', '<', sql<Date>`${at}::timestamptz - interval '1 minute'`),
      ]),
    )
    .execute();
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

/**
 * The store a presented secret is looked up in: the one it names, or, for a secret issued
 * before secrets named their store, the one `secret_routes` holds for its hash (a small
 * table, on Citus a reference table on every node). Either way the look-up that follows
 * reads one store.
 */
async function storeToLookIn(db: DB, secret: string, hash: string): Promise<string | undefined> {
  const named = storeOfSecret(secret);
  if (named !== undefined) return named;
  const route = await db
    .selectFrom('secret_routes')
    .select('store_id')
    .where('secret_hash', '=', hash)
    .executeTakeFirst();
  return route?.store_id;
}

/** The caller a presented key stands for, or undefined for an unknown or revoked key. */
export async function authenticateKey(db: DB, apiKey: string): Promise<Caller | undefined> {
  const keyHash = hashApiKey(apiKey);
  const storeId = await storeToLookIn(db, apiKey, keyHash);
  if (storeId === undefined) return undefined;
  // Looking the key up by its hash means its secret never meets a variable-time comparison.
  const row = await db
    .selectFrom('api_keys')
    .select(['store_id', 'id'])
    .where('store_id', '=', storeId)
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { storeId: row.store_id, keyId: row.id } : undefined;
}

/** How long an exchanged access token lives. */
const ACCESS_TOKEN_TTL_MS = 60 * 60 * 1000;

/** Exchanges a valid store key for a short-lived access token (shown once, stored hashed). */
export async function createAccessToken(
  db: DB,
  caller: Caller,
): Promise<{ accessToken: string; expiresAt: string }> {
  const accessToken = generateAccessToken(caller.storeId);
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
  const tokenHash = hashApiKey(token);
  const storeId = await storeToLookIn(db, token, tokenHash);
  if (storeId === undefined) return undefined;
  const row = await db
    .selectFrom('access_tokens as t')
    .innerJoin('api_keys as k', (j) =>
      j.onRef('k.store_id', '=', 't.store_id').onRef('k.id', '=', 't.key_id'),
    )
    .select(['t.store_id', 't.key_id'])
    .where('t.store_id', '=', storeId)
    .where('t.token_hash', '=', tokenHash)
    .where('t.expires_at', '>', new Date())
    .where('k.revoked_at', 'is', null)
    .executeTakeFirst();
  return row ? { storeId: row.store_id, keyId: row.key_id } : undefined;
}
