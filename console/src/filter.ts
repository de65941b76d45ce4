import {
  operators,
  profileFieldTypes,
  relativeOperators,
} from '../../src/core/segments/vocabulary';
import type { CustomField } from './types';

/**
 * The segment builder's model: groups of conditions as a person edits them (every value
 * a string, as inputs hold it), turned into the API's filter (docs/api.md, "Segments")
 * and back. The words (fields, operators, units) are the server's own lists.
 */
export type FieldType = CustomField['type'];

export interface Leaf {
  kind: 'leaf';
  key: number;
  field: string;
  op: string;
  value: string;
  /** The upper bound of `between`. */
  to: string;
  unit: string;
}

export interface Group {
  kind: 'group';
  key: number;
  match: 'and' | 'or';
  items: Node[];
}

export type Node = Leaf | Group;

export { operators, relativeOperators };

let keys = 0;
export const nextKey = () => ++keys;

/** The fields a filter can name: the profile's, then the store's custom fields. */
export function filterFields(declared: CustomField[]): { name: string; type: FieldType }[] {
  return [
    ...Object.entries(profileFieldTypes).map(([name, type]) => ({ name, type })),
    ...declared.map((f) => ({ name: `customFields.${f.name}`, type: f.type })),
  ];
}

export const opLabels: Record<string, string> = {
  eq: 'is',
  neq: 'is not',
  in: 'is one of',
  not_in: 'is none of',
  contains: 'contains',
  not_contains: 'does not contain',
  starts_with: 'starts with',
  ends_with: 'ends with',
  gt: 'is greater than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  between: 'is between',
  before: 'is before',
  after: 'is after',
  in_the_last: 'is in the last',
  more_than_ago: 'is more than … ago',
  in_the_next: 'is in the next',
  anniversary_in_the_next: 'has its anniversary in the next',
  is_set: 'is set',
  is_not_set: 'is not set',
};

export function newLeaf(field: string, type: FieldType): Leaf {
  return {
    kind: 'leaf',
    key: nextKey(),
    field,
    op: operators[type][0] ?? 'eq',
    value: '',
    to: '',
    unit: 'day',
  };
}

export function newGroup(match: 'and' | 'or' = 'and', items: Node[] = []): Group {
  return { kind: 'group', key: nextKey(), match, items };
}

export const takesNoValue = (op: string) => op === 'is_set' || op === 'is_not_set';

/** A number as typed; what is not one is sent as typed, for the server to name. */
const numberOf = (s: string): number | string => {
  const n = Number(s);
  return s.trim() !== '' && Number.isFinite(n) ? n : s;
};

/** A datetime-local input's value (local time) as an ISO date-time with its zone. */
const dateOf = (s: string): string => {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? s : new Date(ms).toISOString();
};

/** An ISO date-time as a datetime-local input shows it, in local time. */
export function localInput(iso: unknown): string {
  const ms = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function leafValue(leaf: Leaf, type: FieldType): unknown {
  if (relativeOperators[leaf.op]) return { amount: numberOf(leaf.value), unit: leaf.unit };
  if (leaf.op === 'in' || leaf.op === 'not_in') {
    return leaf.value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  const one = (s: string) =>
    type === 'NUMBER'
      ? numberOf(s)
      : type === 'DATE'
        ? dateOf(s)
        : type === 'BOOLEAN'
          ? s === 'true'
          : s;
  if (leaf.op === 'between') return [one(leaf.value), one(leaf.to)];
  return one(leaf.value);
}

/** The API's filter for a group, or undefined while it holds no condition. */
export function toFilter(
  node: Node,
  typeOf: (field: string) => FieldType | undefined,
): unknown | undefined {
  if (node.kind === 'leaf') {
    const type = typeOf(node.field) ?? 'STRING';
    return takesNoValue(node.op)
      ? { field: node.field, op: node.op }
      : { field: node.field, op: node.op, value: leafValue(node, type) };
  }
  const items = node.items.map((n) => toFilter(n, typeOf)).filter((f) => f !== undefined);
  return items.length === 0 ? undefined : { [node.match]: items };
}

/** Each node's path in the filter the API is sent (`/filter/and/0`), to show its errors. */
export function pathsOf(node: Node, path = '/filter', into = new Map<number, string>()) {
  into.set(node.key, path);
  if (node.kind === 'group') {
    node.items.forEach((n, i) => {
      pathsOf(n, `${path}/${node.match}/${i}`, into);
    });
  }
  return into;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A saved filter as the builder's groups, or undefined when it uses what the builder
 * does not write (a `not`): such a segment is shown, and edited through the API.
 */
export function fromFilter(filter: unknown): Group | undefined {
  const node = readNode(filter);
  if (!node) return undefined;
  return node.kind === 'group' ? node : newGroup('and', [node]);
}

function readNode(v: unknown): Node | undefined {
  if (!isObject(v)) return undefined;
  for (const match of ['and', 'or'] as const) {
    if (Array.isArray(v[match])) {
      const items = (v[match] as unknown[]).map(readNode);
      if (items.some((i) => i === undefined)) return undefined;
      return newGroup(match, items as Node[]);
    }
  }
  if (typeof v.field !== 'string' || typeof v.op !== 'string') return undefined;
  const leaf: Leaf = { ...newLeaf(v.field, 'STRING'), op: v.op };
  const value = v.value;
  if (isObject(value)) {
    leaf.value = String(value.amount ?? '');
    leaf.unit = String(value.unit ?? 'day');
  } else if (Array.isArray(value)) {
    if (v.op === 'between') {
      leaf.value = shown(value[0]);
      leaf.to = shown(value[1]);
    } else leaf.value = value.map(String).join(', ');
  } else if (value !== undefined) leaf.value = shown(value);
  return leaf;
}

const shown = (v: unknown): string =>
  typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? localInput(v) : String(v ?? '');
