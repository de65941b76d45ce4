import type { DB } from '../db/database.js';
import { decodeCursor, type PageQuery, pageOf } from '../paging.js';
import type { Platform, StoreSettings } from './settings.js';
import * as repo from './stores.repository.js';

/** Store settings are read on every write; a few seconds of memory spares a query each time. */
const SETTINGS_TTL_MS = 5_000;

/** `clientele.stores`: stores and their settings (a change reaches other processes within 5 s). */
export class Stores {
  private readonly settingsCache = new Map<string, { settings: StoreSettings; at: number }>();
  /** Which store a platform's name for it stands for; found ones only, for as long. */
  private readonly aliasCache = new Map<string, { storeId: string; at: number }>();

  constructor(private readonly db: DB) {}

  create(name: string) {
    return repo.createStore(this.db, name);
  }

  /** On an empty database, the store `name` with one key; otherwise nothing. */
  createFirst(name: string) {
    return repo.createFirstStore(this.db, name);
  }

  /** Every store, newest first, a page at a time. */
  async list(page: PageQuery) {
    const before = decodeCursor(page.cursor, 'sto');
    return pageOf(await repo.listStores(this.db, page.limit + 1, before), page.limit);
  }

  get(storeId: string) {
    return repo.getStore(this.db, storeId);
  }

  async update(storeId: string, change: { name?: string; settings?: Record<string, unknown> }) {
    const store = await repo.updateStore(this.db, storeId, change);
    this.settingsCache.delete(storeId);
    this.aliasCache.clear();
    return store;
  }

  /**
   * The store a platform names by its id or by the alias set for that platform. Every
   * dialect request asks, so an answer is remembered as settings are (a change reaches
   * other processes within 5 s); a name that finds no store is asked again each time,
   * so a store just created is found at once.
   */
  async findByIdOrAlias(idOrAlias: string, platform: Platform): Promise<string | undefined> {
    const key = `${platform}\u0000${idOrAlias}`;
    const hit = this.aliasCache.get(key);
    if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.storeId;
    const storeId = await repo.findStoreByIdOrAlias(this.db, idOrAlias, platform);
    if (storeId !== undefined) {
      if (this.aliasCache.size >= 10_000) this.aliasCache.clear();
      this.aliasCache.set(key, { storeId, at: Date.now() });
    }
    return storeId;
  }

  async settingsOf(storeId: string): Promise<StoreSettings> {
    const hit = this.settingsCache.get(storeId);
    if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.settings;
    const { settings } = await repo.getStore(this.db, storeId);
    this.settingsCache.set(storeId, { settings, at: Date.now() });
    return settings;
  }
}
