/**
 * A reference model of the upsert, for test/http/model.test.ts: the rules of docs/api.md
 * and docs/dialects.md, written as plainly as they read, for a subset of the customer
 * (email, externalId, phoneNumbers, firstName, lastName, typed identifiers of one type,
 * custom fields of NUMBER and STRING values). No database, no batching, no retries: a
 * list of customers and one function that applies one upsert to them.
 *
 * Where the documents are silent, the model does what src/core/customers/upsert.ts does,
 * and says so where it does it.
 */

/** The identifiers that find customers, strongest first (docs/api.md, `matchedBy`). */
export const kinds = ['externalId', 'email', 'phone', 'identifier'] as const;
export type Kind = (typeof kinds)[number];

/** The one typed identifier type the model uses. */
export const CARD = 'loyaltyCard';

export type FieldValue = string | number;
export type FieldType = 'NUMBER' | 'STRING';

export interface State {
  externalId: string | null;
  email: string | null;
  phoneNumbers: string[];
  firstName: string | null;
  lastName: string | null;
  identifiers: { type: string; value: string }[];
  /** Emails and external ids of customers merged into it that its own replaced. */
  mergedIdentifiers: { type: 'email' | 'externalId'; value: string }[];
  customFields: Record<string, FieldValue>;
}

export interface ModelEvent {
  type: 'created' | 'updated' | 'merged';
  /** Which API wrote it (`native`, `redo`, `voucherify`). */
  api: Upsert['api'];
  /** A created or updated event: the field paths it names as changed, sorted. */
  changed?: string[];
  /** A merged event: the customer folded into this one, or the one this was folded into. */
  mergedFrom?: ModelCustomer;
  mergedInto?: ModelCustomer;
}

export interface ModelCustomer {
  /** Its place in the order the model created customers. */
  n: number;
  /** The server's id for it, once an answer has named it. */
  serverId?: string;
  state: State;
  version: number;
  mergedInto: ModelCustomer | null;
  /** Oldest first. */
  history: ModelEvent[];
}

export interface ModelStore {
  identityConflict: 'reject' | 'merge';
  customers: ModelCustomer[];
  fieldTypes: Record<string, FieldType>;
}

export interface NativeBody {
  externalId?: string | null;
  email?: string | null;
  phoneNumber?: string;
  phoneNumbers?: string[];
  firstName?: string | null;
  lastName?: string | null;
  identifiers?: { type: string; value: string }[];
  customFields?: Record<string, FieldValue | null>;
}

/** Redo's `PUT /v2.2/stores/{storeId}/customers`: the email is the upsert key. */
export interface RedoBody {
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  phoneNumber?: string;
  customFields?: Record<string, FieldValue | null>;
}

/** Voucherify's `POST /v1/customers`: by `source_id` (the external id), else a new customer. */
export interface VoucherifyBody {
  source_id?: string | null;
  name?: string | null;
  email?: string | null;
  phone?: string;
}

export type Upsert =
  | { api: 'native'; body: NativeBody }
  | { api: 'redo'; body: RedoBody }
  | { api: 'voucherify'; body: VoucherifyBody };

export type Outcome =
  | {
      ok: true;
      result: 'created' | 'updated' | 'unchanged';
      matchedBy: Kind | null;
      customer: ModelCustomer;
      /** The customer as the answer shows it (a copy: the model moves on). */
      state: State;
      version: number;
    }
  | { ok: false; status: number; code: string };

export interface Applied {
  outcome: Outcome;
  /**
   * Everything the outcome depends on or changes: the identifier values the upsert names,
   * every value held (before and after) by each customer holding one of them, and those
   * customers. Two upserts with disjoint footprints give the same answers and leave the
   * same customers in either order.
   */
  footprint: Set<string>;
  /** The custom fields the upsert names (their first value declares their type). */
  fieldsNamed: string[];
}

export function newModelStore(identityConflict: ModelStore['identityConflict']): ModelStore {
  return { identityConflict, customers: [], fieldTypes: {} };
}

export function emptyState(): State {
  return {
    externalId: null,
    email: null,
    phoneNumbers: [],
    firstName: null,
    lastName: null,
    identifiers: [],
    mergedIdentifiers: [],
    customFields: {},
  };
}

const copy = (s: State): State => structuredClone(s);

/** An upsert in the native API's terms, with the identifiers that find customers. */
interface Intent {
  set: Partial<Pick<State, 'externalId' | 'email' | 'firstName' | 'lastName'>>;
  phones: string[];
  identifiers?: { type: string; value: string }[];
  customFields?: Record<string, FieldValue | null>;
  /** The identifiers that find customers; the others are only written (and must be free). */
  lookup: readonly Kind[];
  requireIdentifier: boolean;
}

const reservedTypes = new Set(['id', 'externalId', 'email', 'phone', 'phoneNumber']);
const lower = (email: string | null) => (email === null ? null : email.trim().toLowerCase());

function intentOf(u: Upsert): Intent | Outcome {
  const set: Intent['set'] = {};
  if (u.api === 'native') {
    const b = u.body;
    if (b.identifiers?.some((i) => reservedTypes.has(i.type))) {
      return { ok: false, status: 400, code: 'validation_failed' };
    }
    if (b.externalId !== undefined) set.externalId = b.externalId;
    if (b.email !== undefined) set.email = lower(b.email);
    if (b.firstName !== undefined) set.firstName = b.firstName;
    if (b.lastName !== undefined) set.lastName = b.lastName;
    const phones = [...(b.phoneNumber ? [b.phoneNumber] : []), ...(b.phoneNumbers ?? [])];
    const identifiers = b.identifiers?.filter(
      (x, i, all) => all.findIndex((y) => y.type === x.type && y.value === x.value) === i,
    );
    return {
      set,
      phones: [...new Set(phones)],
      ...(identifiers ? { identifiers } : {}),
      ...(b.customFields ? { customFields: b.customFields } : {}),
      lookup: kinds,
      requireIdentifier: true,
    };
  }
  if (u.api === 'redo') {
    // docs/dialects.md: identity by email only.
    const b = u.body;
    set.email = lower(b.email);
    if (b.firstName !== undefined) set.firstName = b.firstName;
    if (b.lastName !== undefined) set.lastName = b.lastName;
    return {
      set,
      phones: b.phoneNumber ? [b.phoneNumber] : [],
      ...(b.customFields ? { customFields: b.customFields } : {}),
      lookup: ['email'],
      requireIdentifier: true,
    };
  }
  // Voucherify: `source_id` finds the customer; without one, always a new customer. A
  // name is first name (first word) and last name (the rest, or none). Phones lose
  // spaces, dots, dashes and parentheses.
  const b = u.body;
  if (b.source_id !== undefined) set.externalId = b.source_id;
  if (b.email !== undefined) set.email = lower(b.email);
  if (b.name !== undefined) {
    const words = (b.name ?? '').trim().split(/\s+/).filter(Boolean);
    set.firstName = words[0] ?? null;
    set.lastName = words.length > 1 ? words.slice(1).join(' ') : null;
  }
  return {
    set,
    phones: b.phone ? [b.phone.replace(/[\s.\-()]/g, '')] : [],
    lookup: b.source_id ? ['externalId'] : [],
    requireIdentifier: false,
  };
}

/** An identifier value as a token: `email:ann@example.com`, `loyaltyCard:C1`. */
interface Key {
  kind: Kind;
  token: string;
}

function keysOfIntent(i: Intent): Key[] {
  const keys: Key[] = [];
  if (i.set.externalId) keys.push({ kind: 'externalId', token: `externalId:${i.set.externalId}` });
  if (i.set.email) keys.push({ kind: 'email', token: `email:${i.set.email}` });
  for (const p of i.phones) keys.push({ kind: 'phone', token: `phone:${p}` });
  for (const x of i.identifiers ?? [])
    keys.push({ kind: 'identifier', token: `${x.type}:${x.value}` });
  return keys;
}

export function tokensOf(s: State): string[] {
  return [
    ...(s.externalId ? [`externalId:${s.externalId}`] : []),
    ...(s.email ? [`email:${s.email}`] : []),
    ...s.phoneNumbers.map((p) => `phone:${p}`),
    ...s.identifiers.map((x) => `${x.type}:${x.value}`),
    ...s.mergedIdentifiers.map((m) => `${m.type}:${m.value}`),
  ];
}

const holds = (s: State, type: 'email' | 'externalId', value: string) =>
  s.mergedIdentifiers.some((m) => m.type === type && m.value === value);

const rank = (k: Kind) => kinds.indexOf(k);

/**
 * Among customers found by equally strong identifiers (two phone numbers of one write,
 * say), which comes first. docs/api.md is silent; the code sorts with a comparator that
 * answers -1 for equal kinds, which V8's sort turns into the newest customer first.
 */
function newerFirst(a: ModelCustomer, b: ModelCustomer): number {
  if (a.serverId && b.serverId) return a.serverId < b.serverId ? 1 : -1;
  return b.n - a.n;
}

/**
 * The survivor keeps every value it has and takes what it lacks; phone numbers and
 * identifiers are joined (its own first); custom fields it lacks are taken. The other's
 * email and external id, where the survivor's own replaces them, are kept as merged
 * identifiers (its external id first), and so are those the other had.
 */
export function mergeStates(survivor: State, other: State): State {
  const merged = copy(survivor);
  for (const f of ['externalId', 'email', 'firstName', 'lastName'] as const) {
    if (merged[f] === null) merged[f] = other[f];
  }
  const answersTo = (type: 'email' | 'externalId', value: string | null) => {
    if (value !== null && merged[type] !== value && !holds(merged, type, value))
      merged.mergedIdentifiers.push({ type, value });
  };
  answersTo('externalId', other.externalId);
  answersTo('email', other.email);
  for (const m of other.mergedIdentifiers) answersTo(m.type, m.value);
  for (const p of other.phoneNumbers)
    if (!merged.phoneNumbers.includes(p)) merged.phoneNumbers.push(p);
  for (const x of other.identifiers) {
    if (!merged.identifiers.some((y) => y.type === x.type && y.value === x.value))
      merged.identifiers.push({ ...x });
  }
  merged.customFields = { ...other.customFields, ...survivor.customFields };
  return merged;
}

/**
 * A write's fields over a state: what is left out is kept, null clears, lists are appended
 * to. An email or external id the customer holds as a merged identifier leaves the field
 * as it is, or, the field empty, moves into it.
 */
function applyIntent(base: State, i: Intent): { next: State; changed: string[] } {
  const next = copy(base);
  const changed: string[] = [];
  for (const [field, value] of Object.entries(i.set) as [keyof Intent['set'], string | null][]) {
    if (
      (field === 'email' || field === 'externalId') &&
      value !== null &&
      holds(base, field, value)
    ) {
      if (base[field] !== null) continue;
      next.mergedIdentifiers = base.mergedIdentifiers.filter(
        (m) => m.type !== field || m.value !== value,
      );
      changed.push('mergedIdentifiers');
    }
    if (base[field] !== value) changed.push(field);
    next[field] = value;
  }
  for (const p of i.phones) if (!next.phoneNumbers.includes(p)) next.phoneNumbers.push(p);
  if (next.phoneNumbers.length !== base.phoneNumbers.length) changed.push('phoneNumbers');
  for (const x of i.identifiers ?? []) {
    if (!next.identifiers.some((y) => y.type === x.type && y.value === x.value))
      next.identifiers.push({ ...x });
  }
  if (next.identifiers.length !== base.identifiers.length) changed.push('identifiers');
  for (const [name, value] of Object.entries(i.customFields ?? {})) {
    if (value === null) delete next.customFields[name];
    else next.customFields[name] = value;
    if ((base.customFields[name] ?? null) !== (next.customFields[name] ?? null))
      changed.push(`customFields.${name}`);
  }
  return { next, changed: changed.sort() };
}

/** Applies one upsert to the store, as the server is documented to. */
export function applyUpsert(store: ModelStore, u: Upsert): Applied {
  const intent = intentOf(u);
  const fieldsNamed = Object.keys(('customFields' in u.body && u.body.customFields) || {});
  const footprint = new Set<string>();
  const done = (outcome: Outcome): Applied => ({ outcome, footprint, fieldsNamed });
  if ('ok' in intent) return done(intent);

  const keys = keysOfIntent(intent);
  for (const k of keys) footprint.add(k.token);
  if (intent.requireIdentifier && keys.length === 0) {
    return done({ ok: false, status: 422, code: 'identifier_required' });
  }

  const live = store.customers.filter((c) => c.mergedInto === null);
  const holderOf = (token: string) => live.find((c) => tokensOf(c.state).includes(token));
  const matched = new Map<ModelCustomer, Kind>();
  const bystanders = new Set<ModelCustomer>();
  for (const k of keys) {
    const holder = holderOf(k.token);
    if (!holder) continue;
    for (const t of tokensOf(holder.state)) footprint.add(t);
    footprint.add(`customer:${holder.n}`);
    if (!intent.lookup.includes(k.kind)) bystanders.add(holder);
    else if (!matched.has(holder) || rank(k.kind) < rank(matched.get(holder)!))
      matched.set(holder, k.kind);
  }

  // An identifier that does not find customers (a dialect identifies by another) cannot
  // be taken from the customer who holds it: 409, whatever the store's setting. The docs
  // say so for Redo's phone and Voucherify's create; for Voucherify's update by source_id
  // they are silent, and the code answers the same.
  if ([...bystanders].some((c) => !matched.has(c))) {
    return done({ ok: false, status: 409, code: 'identity_conflict' });
  }
  const ranked = [...matched.entries()]
    .sort(([a, ka], [b, kb]) => rank(ka) - rank(kb) || newerFirst(a, b))
    .map(([c, kind]) => ({ c, kind }));
  if (ranked.length > 1 && store.identityConflict === 'reject') {
    return done({ ok: false, status: 409, code: 'identity_conflict' });
  }

  // The first value of a field declares its type; a value of another type refuses the
  // whole write (after the identity checks: the code checks types last, docs are silent).
  const types: Record<string, FieldType> = {};
  for (const [name, value] of Object.entries(intent.customFields ?? {})) {
    if (value === null) continue;
    const type: FieldType = typeof value === 'number' ? 'NUMBER' : 'STRING';
    const declared = store.fieldTypes[name] ?? types[name] ?? type;
    if (declared !== type) {
      return done({
        ok: false,
        status: u.api === 'redo' ? 400 : 422,
        code: 'custom_field_type_mismatch',
      });
    }
    types[name] = declared;
  }

  const target = ranked[0]?.c;
  let base = target ? copy(target.state) : emptyState();
  for (const { c: other } of ranked.slice(1)) {
    base = mergeStates(base, other.state);
    other.mergedInto = target!;
    other.version += 1;
    other.history.push({ type: 'merged', api: u.api, mergedInto: target! });
    target!.history.push({ type: 'merged', api: u.api, mergedFrom: other });
  }
  // The write's own email and external id are the customer's as written, though its merge
  // has just made them merged identifiers (they were a source's).
  if (target && ranked.length > 1) {
    base.mergedIdentifiers = base.mergedIdentifiers.filter(
      (m) => intent.set[m.type] !== m.value || holds(target.state, m.type, m.value),
    );
  }
  Object.assign(store.fieldTypes, types);

  const { next, changed } = applyIntent(base, intent);
  let customer: ModelCustomer;
  let result: 'created' | 'updated' | 'unchanged';
  if (!target) {
    customer = {
      n: store.customers.length,
      state: next,
      version: 1,
      mergedInto: null,
      history: [{ type: 'created', api: u.api, changed }],
    };
    store.customers.push(customer);
    result = 'created';
  } else {
    customer = target;
    if (changed.length === 0 && ranked.length === 1) result = 'unchanged';
    else {
      result = 'updated';
      customer.state = next;
      customer.version += 1;
      // A merge that the write's own fields add nothing to writes only the merged events
      // (docs silent; the code's choice): still `updated`, one version up.
      if (changed.length > 0) customer.history.push({ type: 'updated', api: u.api, changed });
    }
  }
  for (const t of tokensOf(customer.state)) footprint.add(t);
  footprint.add(`customer:${customer.n}`);
  return done({
    ok: true,
    result,
    matchedBy: ranked[0]?.kind ?? null,
    customer,
    state: copy(customer.state),
    version: customer.version,
  });
}

/** The customer an id reads as: a merged-away customer reads as the one it went into. */
export function survivorOf(c: ModelCustomer): ModelCustomer {
  let at = c;
  while (at.mergedInto) at = at.mergedInto;
  return at;
}
