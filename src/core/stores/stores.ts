import type { DB } from '../db/database.js';
import type { Platform, StoreSettings } from './settings.js';
import * as repo from './stores.repository.js';

/** Store settings are read on every write; a few seconds of memory spares a query each time. */
const SETTINGS_TTL_MS = 5_000;

/** `clientele.stores`: stores and their settings (a change reaches other processes within 5 s). */
export class Stores {
  private readonly settingsCache = new Map<string, { settings: StoreSettings; at: number }>();

  constructor(private readonly db: DB) {}

  create(name: string) {
    return repo.createStore(this.db, name);
  }

  /** On an empty database, the store `name` with one key; otherwise nothing. */
  createFirst(name: string) {
    return repo.createFirstStore(this.db, name);
  }

  get(storeId: string) {
    return repo.getStore(this.db, storeId);
  }

  async update(storeId: string, change: { name?: string; settings?: Record<string, unknown> }) {
    const store = await repo.updateStore(this.db, storeId, change);
    this.settingsCache.delete(storeId);
    return store;
  }

  /** The store a platform names by its id or by the alias set for that platform. */
  findByIdOrAlias(idOrAlias: string, platform: Platform) {
    return repo.findStoreByIdOrAlias(this.db, idOrAlias, platform);
  }

  async settingsOf(storeId: string): Promise<StoreSettings> {
    const hit = this.settingsCache.get(storeId);
    if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.settings;
    const { settings } = await repo.getStore(this.db, storeId);
    this.settingsCache.set(storeId, { settings, at: Date.now() });
    return settings;
  }
}
