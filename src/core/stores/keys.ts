import type { DB } from '../db/database.js';
import { hashApiKey } from './api-keys.js';
import { KeyCache } from './key-cache.js';
import { listenForRevocations } from './revocations.repository.js';
import * as repo from './stores.repository.js';

/** How long a key is remembered at most (revocations evict it sooner). */
const KEY_CACHE_TTL_MS = 60_000;
const UNKNOWN_MAX = 10_000;

/** `clientele.keys`: a store's API keys and the short-lived access tokens they exchange for. */
export class Keys {
  private readonly cache: KeyCache;
  /** Hashes of secrets that were neither a key nor a token, and when they were asked. */
  private readonly unknown = new Map<string, number>();
  private readonly revocations: { close(): Promise<void> } | undefined;

  constructor(
    private readonly db: DB,
    databaseUrl: string | undefined,
  ) {
    // On PostgreSQL other processes revoke keys too: remember keys only while their
    // revocations can be heard. PGlite has one process, which evicts for itself.
    this.cache = new KeyCache(KEY_CACHE_TTL_MS, !databaseUrl);
    this.revocations = databaseUrl ? listenForRevocations(databaseUrl, this.cache) : undefined;
  }

  create(storeId: string) {
    return repo.createKey(this.db, storeId);
  }

  async revoke(storeId: string, keyId: string) {
    await repo.revokeKey(this.db, storeId, keyId);
    this.cache.evictKey(keyId);
  }

  /** The caller a store key stands for, from memory when this process has seen it lately. */
  async authenticate(apiKey: string): Promise<repo.Caller | undefined> {
    const hash = hashApiKey(apiKey);
    const known = this.cache.get(hash);
    if (known) return known;
    const caller = await repo.authenticateKey(this.db, hash);
    if (caller) this.cache.set(hash, caller);
    return caller;
  }

  /**
   * The caller any presented secret stands for, a store key or an access token: what the
   * rate limiter counts by. A secret that is neither is remembered as such for a while
   * (secrets are random, so none becomes valid later), so one sent again and again costs
   * no query.
   */
  async identify(secret: string): Promise<repo.Caller | undefined> {
    const hash = hashApiKey(secret);
    const seen = this.unknown.get(hash);
    if (seen !== undefined && Date.now() - seen < KEY_CACHE_TTL_MS) return undefined;
    const caller =
      (await this.authenticate(secret)) ?? (await this.authenticateAccessToken(secret));
    if (caller) return caller;
    if (this.unknown.size >= UNKNOWN_MAX) this.unknown.clear();
    this.unknown.set(hash, Date.now());
    return undefined;
  }

  createAccessToken(caller: repo.Caller) {
    return repo.createAccessToken(this.db, caller);
  }

  authenticateAccessToken(token: string) {
    return repo.authenticateAccessToken(this.db, token);
  }

  close(): Promise<void> {
    return this.revocations?.close() ?? Promise.resolve();
  }
}
