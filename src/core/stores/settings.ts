import { type FieldProblem, fail } from '../errors.js';
import { FIELD_NAME, type FieldType } from '../fields/types.js';
import { setOwnValue } from '../records.js';

const fieldTypes: FieldType[] = ['STRING', 'NUMBER', 'BOOLEAN', 'DATE'];

export type IdentityConflictPolicy = 'reject' | 'merge';
export const platforms = ['redo', 'yotpo', 'capillary', 'cheqpay', 'voucherify'] as const;
export type Platform = (typeof platforms)[number];

export interface StoreSettings {
  /** What an upsert does when its identifiers belong to two or more customers. */
  identityConflict: IdentityConflictPolicy;
  /** How many distinct values a STRING custom field tracks as options. */
  customFieldOptionsLimit: number;
  /** Ids the store is known by on each platform, accepted where a dialect names a tenant. */
  aliases: Partial<Record<Platform, string>>;
  /**
   * Extended fields the store has enabled, with their types: custom fields that a
   * platform (Capillary) lets clients write only when enabled.
   */
  extendedFields: Record<string, FieldType>;
  /** How many days the store's event feed reaches back (GET /v1/stores/{id}/events). */
  eventRetentionDays: number;
  /** How many of the store's imports run at once, across every process (the rest wait queued). */
  importsAtOnce: number;
  /** The most conditions (leaves) a segment filter has. */
  segmentFilterLeaves: number;
  /** The deepest a segment filter nests, its root at 1. */
  segmentFilterDepth: number;
  /** The most saved segments a store has (each is evaluated at every write). */
  segmentsLimit: number;
  /**
   * Whether erasing a customer suppresses its identifiers (keyed hashes kept, and any
   * later write naming one refused). Suppressions made stay until lifted either way.
   */
  suppression: boolean;
}

/** What each whole-number setting takes, and what its message says past it. */
const wholeSettings = {
  customFieldOptionsLimit: [0, 100_000, 'must be a whole number from 0 to 100000'],
  eventRetentionDays: [1, 365, 'must be a whole number of days from 1 to 365'],
  importsAtOnce: [1, 16, 'must be a whole number from 1 to 16'],
  segmentFilterLeaves: [1, 200, 'must be a whole number from 1 to 200'],
  segmentFilterDepth: [1, 10, 'must be a whole number from 1 to 10'],
  segmentsLimit: [0, 500, 'must be a whole number from 0 to 500'],
} as const;

export const defaultSettings: StoreSettings = {
  identityConflict: 'reject',
  customFieldOptionsLimit: 1000,
  aliases: {},
  extendedFields: {},
  eventRetentionDays: 30,
  importsAtOnce: 1,
  segmentFilterLeaves: 50,
  segmentFilterDepth: 4,
  segmentsLimit: 100,
  suppression: true,
};

/** Applies a partial settings change to the current settings, or throws naming each bad key. */
export function mergeSettings(
  current: StoreSettings,
  change: Record<string, unknown>,
): StoreSettings {
  const problems: FieldProblem[] = [];
  const next: StoreSettings = {
    ...current,
    aliases: { ...current.aliases },
    extendedFields: { ...current.extendedFields },
  };
  for (const [key, value] of Object.entries(change)) {
    const path = `/settings/${key}`;
    if (key === 'identityConflict') {
      if (value === 'reject' || value === 'merge') next.identityConflict = value;
      else problems.push({ path, message: "must be 'reject' or 'merge'" });
    } else if (key === 'suppression') {
      if (typeof value === 'boolean') next.suppression = value;
      else problems.push({ path, message: 'must be true or false' });
    } else if (Object.hasOwn(wholeSettings, key)) {
      const [min, max, message] = wholeSettings[key as keyof typeof wholeSettings];
      if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) {
        next[key as keyof typeof wholeSettings] = value as number;
      } else problems.push({ path, message });
    } else if (key === 'aliases') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push({ path, message: 'must be an object of platform to id' });
        continue;
      }
      for (const [platform, alias] of Object.entries(value)) {
        if (!(platforms as readonly string[]).includes(platform)) {
          problems.push({
            path: `${path}/${platform}`,
            message: `unknown platform; one of ${platforms.join(', ')}`,
          });
        } else if (alias === null) {
          delete next.aliases[platform as Platform];
        } else if (typeof alias === 'string' && alias.length >= 1 && alias.length <= 255) {
          next.aliases[platform as Platform] = alias;
        } else {
          problems.push({
            path: `${path}/${platform}`,
            message: 'must be a string of 1 to 255 characters, or null',
          });
        }
      }
    } else if (key === 'extendedFields') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push({ path, message: 'must be an object of field name to type' });
        continue;
      }
      for (const [name, type] of Object.entries(value)) {
        if (!FIELD_NAME.test(name)) {
          problems.push({ path: `${path}/${name}`, message: 'is not a valid field name' });
        } else if (type === null) {
          delete next.extendedFields[name];
        } else if (fieldTypes.includes(type as FieldType)) {
          setOwnValue(next.extendedFields, name, type as FieldType);
        } else {
          problems.push({
            path: `${path}/${name}`,
            message: `must be one of ${fieldTypes.join(', ')}, or null`,
          });
        }
      }
    } else {
      problems.push({ path, message: 'unknown setting' });
    }
  }
  if (problems.length > 0) throw fail.validation(problems);
  return next;
}

export function settingsFromRow(raw: Record<string, unknown>): StoreSettings {
  return {
    ...defaultSettings,
    ...(raw as Partial<StoreSettings>),
    aliases: { ...(raw.aliases ?? {}) },
  };
}
