import type { DB } from '../db/database.js';
import { FieldCache } from './field-cache.js';
import { listDeclarations, listOptions } from './fields.repository.js';

/** `clientele.fields`: the store's custom field declarations and their tracked options. */
export class Fields {
  /** What this process knows the database holds about fields (the upsert reads it too). */
  readonly cache = new FieldCache();

  constructor(private readonly db: DB) {}

  list(storeId: string) {
    return listDeclarations(this.db, storeId);
  }

  options(storeId: string, name: string, query: { prefix?: string; limit: number }) {
    return listOptions(this.db, storeId, name, query);
  }
}
