import { type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { DB } from './database.js';
import * as m0001 from './migrations/0001_init.js';
import * as m0002 from './migrations/0002_access_tokens.js';
import * as m0003 from './migrations/0003_idempotency.js';
import * as m0004 from './migrations/0004_plan_stability.js';
import * as m0005 from './migrations/0005_write_customers.js';
import * as m0006 from './migrations/0006_find_owners.js';
import * as m0007 from './migrations/0007_events_by_customer.js';
import * as m0008 from './migrations/0008_change_record.js';
import * as m0009 from './migrations/0009_identity.js';
import * as m0010 from './migrations/0010_api_key_names.js';
import * as m0011 from './migrations/0011_event_feed.js';
import * as m0012 from './migrations/0012_webhooks.js';
import * as m0013 from './migrations/0013_event_streams.js';
import * as m0014 from './migrations/0014_lease_deliveries.js';
import * as m0015 from './migrations/0015_events_by_id.js';
import * as m0016 from './migrations/0016_imports.js';
import * as m0017 from './migrations/0017_segments.js';
import * as m0018 from './migrations/0018_customer_search.js';
import * as m0019 from './migrations/0019_write_plans.js';
import * as m0020 from './migrations/0020_distribution.js';
import * as m0021 from './migrations/0021_suppressions.js';
import * as m0022 from './migrations/0022_merges.js';
import * as m0023 from './migrations/0023_fan_out_rotation.js';
import * as m0024 from './migrations/0024_segment_counts.js';
import * as m0025 from './migrations/0025_import_records.js';
import * as m0026 from './migrations/0026_segment_builds.js';
import * as m0027 from './migrations/0027_fan_out_plans.js';
import * as m0028 from './migrations/0028_memberships_where_segments.js';
import * as m0029 from './migrations/0029_merged_identifiers.js';
import * as m0030 from './migrations/0030_values_on_demand.js';
import * as m0031 from './migrations/0031_suppressed_read.js';

/**
 * Migrations are compiled in, so a built server needs no migration folder at run time.
 * They run in the order of their names. A number may be missing, and a migration may
 * arrive after ones with higher numbers were applied (0009 and 0010 were given to
 * changes that merged after 0011-0013): a database that has those takes it too.
 */
const migrations: Record<string, Migration> = {
  '0001_init': m0001,
  '0002_access_tokens': m0002,
  '0003_idempotency': m0003,
  '0004_plan_stability': m0004,
  '0005_write_customers': m0005,
  '0006_find_owners': m0006,
  '0007_events_by_customer': m0007,
  '0008_change_record': m0008,
  '0009_identity': m0009,
  '0010_api_key_names': m0010,
  '0011_event_feed': m0011,
  '0012_webhooks': m0012,
  '0013_event_streams': m0013,
  '0014_lease_deliveries': m0014,
  '0015_events_by_id': m0015,
  '0016_imports': m0016,
  '0017_segments': m0017,
  '0018_customer_search': m0018,
  '0019_write_plans': m0019,
  '0020_distribution': m0020,
  '0021_suppressions': m0021,
  '0022_merges': m0022,
  '0023_fan_out_rotation': m0023,
  '0024_segment_counts': m0024,
  '0025_import_records': m0025,
  '0026_segment_builds': m0026,
  '0027_fan_out_plans': m0027,
  '0028_memberships_where_segments': m0028,
  '0029_merged_identifiers': m0029,
  '0030_values_on_demand': m0030,
  '0031_suppressed_read': m0031,
};

const provider: MigrationProvider = {
  getMigrations: async () => migrations,
};

const migratorOf = (db: DB) => new Migrator({ db, provider, allowUnorderedMigrations: true });

export async function migrateToLatest(db: DB): Promise<string[]> {
  const { error, results } = await migratorOf(db).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies the migrations up to and including `name` only: for tests of a later migration. */
export async function migrateTo(db: DB, name: string): Promise<void> {
  const { error } = await migratorOf(db).migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

/** True when every migration this build knows of has been applied. */
export async function isMigrated(db: DB): Promise<boolean> {
  const list = await migratorOf(db).getMigrations();
  return list.every((m) => m.executedAt !== undefined);
}
