import type { ColumnType, Generated, GeneratedAlways } from 'kysely';

/** Row types as the database holds them. They never leave the repositories. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp the database fills in when an insert leaves it out. */
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface StoreRow {
  id: string;
  name: string;
  settings: Json<Record<string, unknown>>;
  /** Moves with every change to the store's segments (migration 0014). */
  segments_version: Generated<string>;
  values_status: Generated<'off' | 'filling' | 'kept'>;
  values_cursor: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface ApiKeyRow {
  store_id: string;
  id: string;
  key_hash: string;
  key_prefix: string;
  created_at: DefaultedTimestamp;
  revoked_at: Timestamp | null;
  /** Migration 0010: null for keys made before it, or made without a name. */
  name: ColumnType<string | null, string | null | undefined, string | null>;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CustomerRow {
  store_id: string;
  id: string;
  /** The store's own number for the customer (migration 0009), given by the write function. */
  seq: number;
  external_id: string | null;
  email: string | null;
  phone_numbers: string[];
  first_name: string | null;
  last_name: string | null;
  birthdate: ColumnType<string | Date | null, string | null, string | null>;
  description: string | null;
  active: boolean;
  location: Json<Record<string, unknown>>;
  identifiers: Json<{ type: string; value: string }[]>;
  custom_fields: Json<Record<string, unknown>>;
  metadata: Json<Record<string, unknown>>;
  channels: Json<unknown[]>;
  loyalty: Json<unknown> | null;
  merged_identifiers: Json<{ type: string; value: string }[]>;
  version: number;
  merged_into: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CustomerIdentifierRow {
  store_id: string;
  kind: string;
  value: string;
  customer_id: string;
}

export interface CustomFieldRow {
  store_id: string;
  name: string;
  type: string;
  option_count: Generated<number>;
  options_truncated: Generated<boolean>;
  created_at: DefaultedTimestamp;
}

export interface CustomFieldOptionRow {
  store_id: string;
  field_name: string;
  value: string;
}

export interface CustomerEventRow {
  store_id: string;
  id: string;
  customer_id: string;
  type: string;
  api: string;
  key_id: string | null;
  changes: Json<Record<string, unknown>>;
  created_at: Timestamp;
  /** Null on records written before migration 0008. */
  previous_version: number | null;
  version: number | null;
  position: Generated<string>;
  /** The writing transaction's id (xid8, as text); 1 on records older than migration 0011. */
  tx: Generated<string>;
  /** The segment a `segment_entered` / `segment_exited` record is of (migration 0014). */
  segment_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The import whose batch wrote the record (migration 0025: the transaction's setting). */
  import_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A saved segment (migration 0014). */
export interface SegmentRow {
  store_id: string;
  id: string;
  name: string;
  filter: Json<unknown>;
  status: 'building' | 'ready';
  member_count: ColumnType<string, number | string | undefined, number | string>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** While building: the last customer id built (migration 0026). */
  build_cursor: ColumnType<string | null, string | null | undefined, string | null>;
  build_owner: ColumnType<string | null, string | null | undefined, string | null>;
  build_leased_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface SegmentMemberRow {
  store_id: string;
  segment_id: string;
  customer_id: string;
  joined_at: Timestamp;
}

export interface SegmentScheduleRow {
  store_id: string;
  segment_id: string;
  evaluated_at: Timestamp;
}

/** A custom field value in its typed column (migration 0014). */
export interface CustomerValueRow {
  store_id: string;
  customer_id: string;
  field: string;
  num: number | null;
  txt: string | null;
  /** left(txt, 200), stored by PostgreSQL (migration 0024). */
  txt_key: GeneratedAlways<string | null>;
  bool: boolean | null;
  ts: Timestamp | null;
}

export interface AccessTokenRow {
  store_id: string;
  id: string;
  token_hash: string;
  key_id: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
}

export interface IdempotencyKeyRow {
  store_id: string;
  idem_key: string;
  request_hash: string;
  status: 'running' | 'done';
  response_status: number | null;
  response_type: string | null;
  response_body: string | null;
  created_at: DefaultedTimestamp;
  locked_at: DefaultedTimestamp;
}

/** A name a platform's requests route to a store by (migration 0009). */
export interface StoreNameRow {
  platform: string;
  name: string;
  store_id: string;
}

/** What migration 0009 found two holders for and left as it was. */
export interface IdentityCollisionRow {
  store_id: string;
  kind: string;
  value: string;
  holders: string[];
  stored_values: string[];
  found_at: DefaultedTimestamp;
}

/** The store of a secret issued before secrets named their store (migration 0020). */
export interface SecretRouteRow {
  secret_hash: string;
  store_id: string;
}

/** A keyed hash of an erased customer's identifier (migration 0021). */
export interface SuppressionRow {
  store_id: string;
  hash: string;
  id: string;
  kind: string;
  created_at: DefaultedTimestamp;
}

/** A merge, its provenance and the snapshot an undo restores (migration 0022). */
export interface MergeRow {
  store_id: string;
  id: string;
  target_id: string;
  source_ids: string[];
  origin: string;
  api: string;
  key_id: string | null;
  target_version: number;
  snapshot: Json<unknown> | null;
  merged: Json<unknown> | null;
  provenance: Json<Record<string, string>> | null;
  created_at: DefaultedTimestamp;
  undone_at: Date | null;
  collisions: Json<unknown> | null;
  erased_at: Date | null;
}

export interface Tables {
  idempotency_keys: IdempotencyKeyRow;
  access_tokens: AccessTokenRow;
  stores: StoreRow;
  api_keys: ApiKeyRow;
  customers: CustomerRow;
  customer_identifiers: CustomerIdentifierRow;
  custom_fields: CustomFieldRow;
  custom_field_options: CustomFieldOptionRow;
  customer_events: CustomerEventRow;
  store_names: StoreNameRow;
  secret_routes: SecretRouteRow;
  identity_collisions: IdentityCollisionRow;
  segments: SegmentRow;
  segment_members: SegmentMemberRow;
  segment_schedule: SegmentScheduleRow;
  customer_values: CustomerValueRow;
  suppressions: SuppressionRow;
  merges: MergeRow;
}
