import { createHmac } from 'node:crypto';
import { ClienteleError } from '../errors.js';
import { type IdentityKey, keyOf } from './identity.js';

/**
 * Suppression: an erased person's identifiers kept as keyed hashes, so that a later
 * write naming one is refused (422 customer_suppressed) without Clientele keeping the
 * value. Each store's key is derived from the server's secret key (CLIENTELE_SECRET_KEY)
 * and the store's id, so it is never stored: a copy of the database alone cannot test a
 * guess against the hashes, and one store's hashes say nothing of another's.
 */
export class SuppressionKeys {
  private secret: string | undefined;
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly secretKey: string | undefined | (() => string | undefined)) {}

  /** The store's key, or undefined when the server has no secret key. */
  private keyOf(storeId: string): Buffer | undefined {
    this.secret ??= typeof this.secretKey === 'function' ? this.secretKey() : this.secretKey;
    if (!this.secret) return undefined;
    let key = this.keys.get(storeId);
    if (!key) {
      key = createHmac('sha256', this.secret).update(`clientele suppression\0${storeId}`).digest();
      this.keys.set(storeId, key);
    }
    return key;
  }

  /** Whether hashes can be made (the server has a secret key). */
  available(storeId: string): boolean {
    return this.keyOf(storeId) !== undefined;
  }

  /**
   * Each normalised identifier's hash (base64url HMAC-SHA256 of its kind and value), in
   * the keys' order; empty when the server has no secret key.
   */
  hashesOf(storeId: string, keys: IdentityKey[]): string[] {
    const key = this.keyOf(storeId);
    if (!key) return [];
    return keys.map((k) => createHmac('sha256', key).update(keyOf(k)).digest('base64url'));
  }

  /** Erasure with suppression on needs the key: refused before anything is deleted. */
  required(storeId: string): void {
    if (!this.available(storeId)) {
      throw new ClienteleError(
        'service_unavailable',
        "Suppression needs the server secret key: set CLIENTELE_SECRET_KEY on every process, or turn the store's suppression setting off.",
      );
    }
  }
}

/** The refusal of a write that names a suppressed identifier. */
export function customerSuppressed(keys: IdentityKey[]): ClienteleError {
  const paths = keys.map((k) => ({
    path: pathOf(k),
    message: 'belongs to an erased customer and is suppressed; lift the suppression to use it',
  }));
  return new ClienteleError(
    'customer_suppressed',
    `${paths[0]?.path ?? 'An identifier'} belongs to an erased customer and is suppressed.`,
    paths,
  );
}

function pathOf(k: IdentityKey): string {
  if (k.kind === 'email' || k.kind === 'externalId') return `/${k.kind}`;
  if (k.kind === 'phone') return '/phoneNumbers';
  return `/identifiers/${k.kind}`;
}
