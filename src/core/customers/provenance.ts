import type { Changes } from './apply.js';
import type { CustomerState } from './customer.js';

/**
 * A customer's state as paths, one per value a merge can take from one customer or
 * another: `email`, `location.city`, `customFields.tier`, `metadata.note`,
 * `phoneNumbers.+14155550100`, `identifiers.wechat:wx_1`, `mergedIdentifiers.email:a@b.c`,
 * `channels.email:a@b.c`,
 * `loyalty.status`, `loyalty.enrollments.7`. Empty values have no path. What a merge
 * records of each field's origin, and what an undo takes back, are said in these paths.
 */
export function pathsOf(state: CustomerState): Map<string, unknown> {
  const paths = new Map<string, unknown>();
  const scalars = ['externalId', 'email', 'firstName', 'lastName', 'birthdate', 'description'];
  for (const field of scalars) {
    const value = (state as unknown as Record<string, unknown>)[field];
    if (value !== null && value !== undefined) paths.set(field, value);
  }
  for (const [part, value] of Object.entries(state.location)) {
    if (value !== null) paths.set(`location.${part}`, value);
  }
  for (const [key, value] of Object.entries(state.customFields))
    paths.set(`customFields.${key}`, value);
  for (const [key, value] of Object.entries(state.metadata)) paths.set(`metadata.${key}`, value);
  for (const phone of state.phoneNumbers) paths.set(`phoneNumbers.${phone}`, phone);
  for (const i of state.identifiers) paths.set(`identifiers.${i.type}:${i.value}`, i);
  for (const m of state.mergedIdentifiers) paths.set(`mergedIdentifiers.${m.type}:${m.value}`, m);
  for (const c of state.channels) paths.set(`channels.${c.type}:${c.value}`, c);
  if (state.loyalty) {
    if (state.loyalty.status === 'loyalty') paths.set('loyalty.status', 'loyalty');
    for (const e of state.loyalty.enrollments) paths.set(`loyalty.enrollments.${e.programId}`, e);
  }
  return paths;
}

/**
 * Where each value of a merged state came from: the target when it held the path, else
 * the first source (in the order they were merged) that did. A merged identifier came
 * from the customer whose email or external id it was.
 */
export function provenanceOf(
  merged: CustomerState,
  target: { id: string; state: CustomerState },
  sources: readonly { id: string; state: CustomerState }[],
): Record<string, string> {
  const held = [target, ...sources].map((c) => {
    const paths = pathsOf(c.state);
    for (const type of ['email', 'externalId'] as const) {
      const value = c.state[type];
      if (value !== null) paths.set(`mergedIdentifiers.${type}:${value}`, { type, value });
    }
    return { id: c.id, paths };
  });
  const provenance: Record<string, string> = {};
  for (const path of pathsOf(merged).keys()) {
    const holder = held.find((h) => h.paths.has(path));
    if (holder) provenance[path] = holder.id;
  }
  return provenance;
}

/** The state without the value at one path (pathsOf's). */
export function withoutPath(state: CustomerState, path: string): CustomerState {
  const next = structuredClone(state);
  const dot = path.indexOf('.');
  const head = dot < 0 ? path : path.slice(0, dot);
  const rest = path.slice(dot + 1);
  const record = next as unknown as Record<string, unknown>;
  if (dot < 0) record[head] = null;
  else if (head === 'location') (next.location as Record<string, unknown>)[rest] = null;
  else if (head === 'customFields') delete next.customFields[rest];
  else if (head === 'metadata') delete next.metadata[rest];
  else if (head === 'phoneNumbers') next.phoneNumbers = next.phoneNumbers.filter((p) => p !== rest);
  else if (head === 'identifiers')
    next.identifiers = next.identifiers.filter((i) => `${i.type}:${i.value}` !== rest);
  else if (head === 'mergedIdentifiers')
    next.mergedIdentifiers = next.mergedIdentifiers.filter((m) => `${m.type}:${m.value}` !== rest);
  else if (head === 'channels')
    next.channels = next.channels.filter((c) => `${c.type}:${c.value}` !== rest);
  else if (head === 'loyalty' && next.loyalty) {
    if (rest === 'status') next.loyalty.status = 'non_loyalty';
    else {
      const programId = Number(rest.slice('enrollments.'.length));
      next.loyalty.enrollments = next.loyalty.enrollments.filter((e) => e.programId !== programId);
    }
  }
  return next;
}

/** Whether two values are the same (JSON-equal, key order aside for plain objects). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const byPart = new Set(['location', 'customFields', 'metadata']);

/**
 * Every field that differs between two states, as applyInput records changes: location,
 * custom fields and metadata part by part (so that segments derive each custom field's
 * value from the record), the others whole.
 */
export function diffByPart(before: CustomerState, after: CustomerState): Changes {
  const changes: Changes = {};
  for (const key of Object.keys(after) as (keyof CustomerState)[]) {
    if (byPart.has(key)) {
      const b = before[key] as Record<string, unknown>;
      const a = after[key] as Record<string, unknown>;
      for (const part of new Set([...Object.keys(b), ...Object.keys(a)])) {
        if (!sameJson(b[part] ?? null, a[part] ?? null)) {
          changes[`${key}.${part}`] = { before: b[part] ?? null, after: a[part] ?? null };
        }
      }
    } else if (!sameJson(before[key], after[key])) {
      changes[key] = { before: before[key], after: after[key] };
    }
  }
  return changes;
}
