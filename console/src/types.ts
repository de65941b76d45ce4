/** The public API's answers, as the console reads them (docs/api.md, /openapi.json). */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface Channel {
  type: string;
  value: string;
  primary?: boolean;
  verified?: boolean;
  subscribed?: boolean;
}

export interface Customer {
  id: string;
  storeId: string;
  externalId: string | null;
  email: string | null;
  phoneNumbers: string[];
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  birthdate: string | null;
  description: string | null;
  active: boolean;
  location: Record<string, unknown>;
  identifiers: { type: string; value: string }[];
  /** Emails and external ids of customers merged into this one, which still find it. */
  mergedIdentifiers: { type: 'email' | 'externalId'; value: string }[];
  customFields: Record<string, string | number | boolean>;
  metadata: Record<string, unknown>;
  channels: Channel[];
  loyalty: { status?: string; enrollments?: LoyaltyEnrollment[] } | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface LoyaltyEnrollment {
  programId: number;
  tierNumber: number | null;
  points: number;
  tierExpiresAt: string | null;
  pointsExpireAt: string | null;
}

export interface CustomerEvent {
  id: string;
  customerId: string;
  type: string;
  api: string;
  keyId: string | null;
  previousVersion: number | null;
  version: number | null;
  changes: Record<string, { before?: unknown; after?: unknown }>;
  createdAt: string;
}

export interface CustomField {
  name: string;
  type: 'STRING' | 'NUMBER' | 'BOOLEAN' | 'DATE';
  createdAt: string;
  optionCount: number;
  optionsTruncated: boolean;
}

export interface Store {
  id: string;
  name: string;
  settings: {
    identityConflict: 'reject' | 'merge';
    customFieldOptionsLimit: number;
    eventRetentionDays: number;
    aliases: Record<string, string>;
  };
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string | null;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface Segment {
  id: string;
  name: string;
  filter: unknown;
  count: number;
  status: 'building' | 'ready';
  createdAt: string;
  updatedAt: string;
}

export interface ImportJob {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
  format: 'ndjson' | 'csv';
  mode: 'upsert' | 'create_only' | 'update_only';
  dryRun: boolean;
  bytes: number;
  total: number | null;
  processed: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  rowsPerSecond: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ImportRowError {
  row: number;
  line: number;
  code: string;
  path: string;
  message: string;
  rowText: string;
}
