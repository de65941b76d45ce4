import type { DB } from '../db/database.js';
import { decodeCursor, type PageQuery, pageOf } from '../paging.js';
import { hashApiKey } from './api-keys.js';
import type { Caller } from './caller.js';
import { KeyCache } from './key-cache.js';
import { KeyUsage } from './key-usage.js';
import * as repo from './keys.repository.js';
import { listenForRevocations } from './revocations.repository.js';
import { checkName, getStore } from './stores.repository.js';

/** How long a key is remembered at most (revocations evict it sooner). */
const KEY_CACHE_TTL_MS = 60_000;
const UNKNOWN_MAX = 10_000;

/** `clientele.keys`: a store's API keys and the short-lived access tokens they exchange for. */
export class Keys {
  private readonly cache: KeyCache;
  private readonly usage: KeyUsage;
  /** Hashes of secrets that were neither a key nor a token, and when they were asked. */
  private readonly unknown = new Map<string, number>();
  private readonly revocations: { close(): Promise<void> } | undefined;

  constructor(
    private readonly db: DB,
    databaseUrl: string | undefined,
    onUsageError?: (error: unknown) => void,
  ) {
    // On PostgreSQL other processes revoke keys too: remember keys only while their
    // revocations can be heard. PGlite has one process, which evicts for itself.
    this.cache = new KeyCache(KEY_CACHE_TTL_MS, !databaseUrl);
    this.usage = new KeyUsage(db, onUsageError);
    this.revocations = databaseUrl ? listenForRevocations(databaseUrl, this.cache) : undefined;
  }

  /** A new key for the store, optionally named; its secret is in this answer only. */
  async create(storeId: string, name?: string | null) {
    const keyName = name === undefined || name === null ? null : checkName(name);
    await getStore(this.db, storeId);
    return repo.insertKey(this.db, storeId, keyName);
  }

  /** The store's keys, newest first, revoked ones too; never a secret. */
  async list(storeId: string, page: PageQuery) {
    await getStore(this.db, storeId);
    const before = decodeCursor(page.cursor, 'key');
    return pageOf(await repo.listKeys(this.db, storeId, page.limit + 1, before), page.limit);
  }

  async revoke(storeId: string, keyId: string) {
    await repo.revokeKey(this.db, storeId, keyId);
    this.cache.evictKey(keyId);
  }

  /** The caller a store key stands for, from memory when this process has seen it lately. */
  async authenticate(apiKey: string): Promise<Caller | undefined> {
    const hash = hashApiKey(apiKey);
    let caller = this.cache.get(hash);
    if (!caller) {
      caller = await repo.authenticateKey(this.db, apiKey);
      if (caller) this.cache.set(hash, caller);
    }
    if (caller) this.usage.used(caller);
    return caller;
  }

  /**
   * The caller any presented secret stands for, a store key or an access token: what the
   * rate limiter counts by. A secret that is neither is remembered as such for a while
   * (secrets are random, so none becomes valid later), so one sent again and again costs
   * no query.
   */
  async identify(secret: string): Promise<Caller | undefined> {
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

  createAccessToken(caller: Caller) {
    return repo.createAccessToken(this.db, caller);
  }

  /** The caller an access token stands for; using the token is a use of its key. */
  async authenticateAccessToken(token: string) {
    const caller = await repo.authenticateAccessToken(this.db, token);
    if (caller) this.usage.used(caller);
    return caller;
  }

  async close(): Promise<void> {
    await this.usage.flush();
    await this.revocations?.close();
  }
}
