import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Store API keys are `ck_` plus 32 random bytes (base64url), a dot and the key's store
 * (`ck_…Q.sto_01J…`). Only their SHA-256 is stored: a key is unguessable, so a fast hash
 * is enough (no need for a slow KDF), and it lets the database find the key by its hash
 * with an index. The store in the key lets that look-up read one store (on Citus, one
 * node: docs/scaling.md); it is not a credential of its own, the hash covers it. Keys
 * issued before had no store part and are found through `secret_routes` (migration 0020).
 */
const KEY_PREFIX = 'ck_';
const ACCESS_TOKEN_PREFIX = 'at_';

export function generateApiKey(storeId: string): string {
  return secretOf(KEY_PREFIX, storeId);
}

export function generateAccessToken(storeId: string): string {
  return secretOf(ACCESS_TOKEN_PREFIX, storeId);
}

function secretOf(prefix: string, storeId: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}.${storeId}`;
}

/** A store id as a secret may name one (base64url never holds a dot, so the first one ends the random part). */
const STORE_PART = /^[A-Za-z0-9_-]{1,100}$/;

/** The store a secret names, or undefined for one issued before secrets named their store (or not ours). */
export function storeOfSecret(secret: string): string | undefined {
  const dot = secret.indexOf('.');
  if (dot < 0) return undefined;
  const store = secret.slice(dot + 1);
  return STORE_PART.test(store) ? store : undefined;
}

/** Hex SHA-256 of a key, with the one-shot `crypto.hash` (no Hash object: it runs on every request). */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** The first characters of a key, kept to tell keys apart in a list; not a secret. */
export function displayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 4);
}

/** Constant-time comparison of two secrets (or their hashes) of any length. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
