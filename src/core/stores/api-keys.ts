import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Store API keys are `ck_` plus 32 random bytes (base64url). Only their SHA-256 is
 * stored: a key is unguessable, so a fast hash is enough (no need for a slow KDF), and
 * it lets the database find the key by its hash with an index.
 */
const KEY_PREFIX = 'ck_';

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
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
