import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, type StoreClient, startFleet, type TestStore } from '../helpers/app.js';
import { onPostgres } from '../helpers/database.js';
import {
  type Applied,
  applyUpsert,
  CARD,
  emptyState,
  type FieldValue,
  type Kind,
  kinds,
  type ModelEvent,
  type ModelStore,
  type NativeBody,
  newModelStore,
  type Outcome,
  type RedoBody,
  type State,
  survivorOf,
  type Upsert,
  type VoucherifyBody,
} from '../helpers/model.js';

/**
 * Random sequences of upserts over a few overlapping identifier values end in the same
 * customers, versions and history as the reference model (test/helpers/model.ts):
 * (a) sent one at a time, (b) in concurrent bursts, (c) through Redo and Voucherify
 * besides the native API; each in a store that rejects identity conflicts and in one
 * that merges. Each run gets a store of its own. On PostgreSQL the requests go through
 * two app instances (two pools, as two processes would), on PGlite through one.
 *
 * MODEL_RUNS sets the runs per property (default 15); MODEL_SEED replays a failure's seed.
 */
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet();
});
afterAll(() => fleet.close());

type Setting = ModelStore['identityConflict'];

// ---- What the runs are made of: few values, so that identifiers overlap a lot ----

interface Pool {
  emails: string[];
  externalIds: string[];
  phones: string[];
  cards: string[];
}

/** Three values of each identifier: most upserts overlap with some earlier one. */
const small: Pool = {
  emails: ['ann@example.com', 'bob@example.com', 'cy@example.com'],
  externalIds: ['X1', 'X2', 'X3'],
  phones: ['+12025553000', '+12025553001', '+12025553002'],
  cards: ['C1', 'C2', 'C3'],
};

const rarely = <T>(often: fc.Arbitrary<T>, seldom: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 10, arbitrary: often }, { weight: 1, arbitrary: seldom });

/** An email of the pool, now and then written in capitals (it is matched as normalised). */
const email = (p: Pool) =>
  rarely(
    fc.constantFrom(...p.emails),
    fc.constantFrom(...p.emails).map((e) => e.toUpperCase()),
  );

/** A NUMBER and a STRING field; now and then a value of the other type (a mismatch). */
const customFields = fc.record(
  {
    points: rarely<FieldValue | null>(fc.constantFrom(1, 2, 2.5, null), fc.constant('lots')),
    tier: rarely<FieldValue | null>(fc.constantFrom('gold', 'silver', null), fc.constant(3)),
  },
  { requiredKeys: [] },
);

const names = {
  firstName: fc.constantFrom('Ann', 'Bob', null),
  lastName: fc.constantFrom('Lee', null),
};

const cards = (values: string[]) => values.map((value) => ({ type: CARD, value }));

const asNative = (body: NativeBody): Upsert => ({ api: 'native', body });

const native = (p: Pool): fc.Arbitrary<Upsert> =>
  fc
    .oneof(
      fc.record(
        {
          externalId: rarely(fc.constantFrom(...p.externalIds), fc.constant(null)),
          email: rarely(email(p), fc.constant(null)),
          phoneNumber: fc.constantFrom(...p.phones),
          phoneNumbers: fc.subarray(p.phones, { minLength: 1, maxLength: 2 }),
          ...names,
          identifiers: rarely(
            fc.subarray(p.cards, { minLength: 1, maxLength: 2 }).map(cards),
            // A reserved type: 400, nothing written.
            fc.constant<NativeBody['identifiers']>([{ type: 'email', value: 'x@example.com' }]),
          ),
          customFields,
        },
        { requiredKeys: [] },
      ),
      // One identifier and little else: often a customer that is there already, unchanged.
      fc.oneof(
        fc.record({ externalId: fc.constantFrom(...p.externalIds) }),
        fc.record({ email: email(p) }),
        fc.record({ phoneNumber: fc.constantFrom(...p.phones) }),
        fc.record({ identifiers: fc.subarray(p.cards, { minLength: 1, maxLength: 1 }).map(cards) }),
      ),
    )
    .map(asNative);

/**
 * For bursts: eight people with identifier values of their own, so that upserts in a
 * row often touch disjoint customers; now and then a value is another person's (a
 * conflict, or a merge).
 */
const crowd: fc.Arbitrary<Upsert> = fc
  .tuple(fc.nat({ max: 7 }), fc.nat({ max: 7 }))
  .chain(([i, j]) => {
    const pick = (value: (n: number) => string) =>
      rarely(fc.constant(value(i)), fc.constant(value(j)));
    return fc.record(
      {
        externalId: pick((n) => `P${n}`),
        email: pick((n) => `p${n}@example.com`),
        phoneNumber: pick((n) => `+120255530${10 + n}`),
        identifiers: pick((n) => `K${n}`).map((v) => cards([v])),
        ...names,
        customFields,
      },
      { requiredKeys: [] },
    );
  })
  .map(asNative);

const redo = (p: Pool): fc.Arbitrary<Upsert> =>
  fc
    .record(
      { email: email(p), ...names, phoneNumber: fc.constantFrom(...p.phones), customFields },
      { requiredKeys: ['email'] },
    )
    .map((body: RedoBody) => ({ api: 'redo' as const, body }));

/** Voucherify takes phones written freely: `+1 202-555-3000`. */
const loosePhone = (p: Pool) =>
  fc
    .constantFrom(...p.phones)
    .chain((n) =>
      fc.constantFrom(n, `${n.slice(0, 2)} ${n.slice(2, 5)}-${n.slice(5, 8)}-${n.slice(8)}`),
    );

const voucherify = (p: Pool): fc.Arbitrary<Upsert> =>
  fc
    .record(
      {
        source_id: rarely(fc.constantFrom(...p.externalIds), fc.constant(null)),
        name: fc.constantFrom('Ann Lee', 'Bob', 'Cy de Ng', null),
        email: rarely(email(p), fc.constant(null)),
        phone: loosePhone(p),
      },
      { requiredKeys: [] },
    )
    .map((body: VoucherifyBody) => ({ api: 'voucherify' as const, body }));

const sequences = (upsert: fc.Arbitrary<Upsert>) =>
  fc.array(upsert, { minLength: 5, maxLength: 25 });

// ---- Sending, and comparing with the model ----

async function freshStore(setting: Setting): Promise<{ store: TestStore; clients: StoreClient[] }> {
  const [first] = fleet.instances;
  const store = await first!.createStore(`model ${setting}`);
  const res = await first!.admin('PATCH', `/v1/stores/${store.id}`, {
    settings: { identityConflict: setting },
  });
  expect(res.statusCode, res.body).toBe(200);
  return { store, clients: fleet.instances.map((i) => i.as(store)) };
}

function send(store: TestStore, client: StoreClient, u: Upsert): Promise<LightMyRequestResponse> {
  switch (u.api) {
    case 'native':
      return client.upsert(u.body);
    case 'redo':
      return client.request('PUT', `/compat/redo/v2.2/stores/${store.id}/customers`, u.body);
    case 'voucherify':
      return client.request('POST', '/compat/voucherify/v1/customers', u.body, {
        'x-app-id': store.id,
        'x-app-token': store.apiKey,
      });
  }
}

/** The part of a native customer the model knows: the fields of its State. */
function stateOf(c: State): State {
  return Object.fromEntries(
    Object.keys(emptyState()).map((field) => [field, c[field as keyof State]]),
  ) as unknown as State;
}

const displayName = (s: State) =>
  [s.firstName, s.lastName].filter((x) => x !== null && x.trim() !== '').join(' ') || null;

interface Sent {
  step: number;
  u: Upsert;
  expected: Outcome;
}

/** The kinds of identifier a native body names. */
function kindsNamed(b: NativeBody): Kind[] {
  return kinds.filter((k) =>
    k === 'externalId'
      ? typeof b.externalId === 'string'
      : k === 'email'
        ? typeof b.email === 'string'
        : k === 'phone'
          ? Boolean(b.phoneNumber || b.phoneNumbers?.length)
          : Boolean(b.identifiers?.length),
  );
}

/**
 * Checks an answer against the model's. With `weakerMatchedBy`, a native answer may name
 * a weaker identifier of the request than the model does (see `knownRace`).
 */
function checkAnswer(
  { step, u, expected: e }: Sent,
  res: LightMyRequestResponse,
  weakerMatchedBy = false,
): void {
  const label = `step ${step}, ${u.api} ${JSON.stringify(u.body)}: ${res.statusCode} ${res.body}`;
  if (!e.ok) {
    expect(res.statusCode, label).toBe(e.status);
    if (u.api === 'native') expect(res.json().code, label).toBe(e.code);
    if (u.api === 'voucherify' && e.status === 409) {
      expect(res.json().key, label).toBe('duplicate_found');
    }
    return;
  }
  expect(res.statusCode, label).toBe(e.result === 'created' && u.api !== 'voucherify' ? 201 : 200);
  const body = res.json();
  const id: string = u.api === 'native' ? body.customer.id : body.id;
  if (e.result === 'created') {
    expect(e.customer.serverId, label).toBeUndefined();
    e.customer.serverId = id;
  }
  expect(id, label).toBe(e.customer.serverId);
  switch (u.api) {
    case 'native': {
      const excused =
        weakerMatchedBy &&
        e.matchedBy !== null &&
        kindsNamed(u.body).includes(body.matchedBy) &&
        kinds.indexOf(body.matchedBy) > kinds.indexOf(e.matchedBy);
      expect(
        {
          result: body.result,
          matchedBy: excused ? e.matchedBy : body.matchedBy,
          version: body.customer.version,
          etag: res.headers.etag,
          ...stateOf(body.customer),
        },
        label,
      ).toEqual({
        result: e.result,
        matchedBy: e.matchedBy,
        version: e.version,
        etag: `"${e.version}"`,
        ...e.state,
      });
      break;
    }
    case 'redo':
      expect(body, label).toEqual({ id, email: e.state.email, created: e.result === 'created' });
      break;
    case 'voucherify':
      expect(
        {
          // Voucherify's schema has no nulls: what a customer lacks is left out.
          source_id: body.source_id ?? null,
          email: body.email ?? null,
          name: body.name ?? null,
          phone: body.phone ?? null,
          updated: 'updated_at' in body,
        },
        label,
      ).toEqual({
        source_id: e.state.externalId,
        email: e.state.email,
        name: displayName(e.state),
        phone: e.state.phoneNumbers.at(-1) ?? null,
        // Voucherify's customer shows updated_at once it has been updated.
        updated: e.version > 1,
      });
      break;
  }
}

async function allCustomers(
  client: StoreClient,
): Promise<(State & { id: string; version: number })[]> {
  const all = [];
  let cursor: string | null = null;
  do {
    const res = await client.get(`/customers?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

function comparableEvent(e: ModelEvent) {
  const { type, api } = e;
  if (e.mergedFrom) return { type, api, mergedFrom: e.mergedFrom.serverId };
  if (e.mergedInto) return { type, api, mergedInto: e.mergedInto.serverId };
  return { type, api, changed: e.changed };
}

/** Every customer and every history read back through the native API, against the model. */
async function compareStore(client: StoreClient, model: ModelStore): Promise<void> {
  const live = model.customers.filter((c) => c.mergedInto === null);
  const listed = await allCustomers(client);
  expect(listed.map((c) => c.id).sort()).toEqual(live.map((c) => c.serverId).sort());
  const byId = new Map(listed.map((c) => [c.id, c]));
  for (const c of live) {
    const server = byId.get(c.serverId!)!;
    expect({ ...stateOf(server), version: server.version }, c.serverId).toEqual({
      ...c.state,
      version: c.version,
    });
  }
  for (const c of model.customers) {
    const res = await client.get(`/customers/${c.serverId}/events?limit=100`);
    expect(res.statusCode, res.body).toBe(200);
    const events = (
      res.json().data as { type: string; api: string; changes: Record<string, unknown> }[]
    )
      .reverse()
      .map(({ type, api, changes }) => {
        if (type !== 'merged') return { type, api, changed: Object.keys(changes).sort() };
        return 'mergedFrom' in changes
          ? { type, api, mergedFrom: changes.mergedFrom }
          : { type, api, mergedInto: changes.mergedInto };
      });
    expect(events, `history of ${c.serverId}`).toEqual(c.history.map(comparableEvent));
    if (c.mergedInto) {
      // A merged-away id says which customer it ended up in.
      const read = await client.get(`/customers/${c.serverId}`);
      expect(read.statusCode, c.serverId).toBe(307);
      expect(read.json().mergedInto, c.serverId).toBe(survivorOf(c).serverId);
    }
  }
}

/**
 * Sends a sequence into a fresh store in bursts of at most `maxBurst` upserts fired at
 * once (1: one at a time), checking every answer and then the whole store against the
 * model. A burst only ever holds upserts whose footprints (test/helpers/model.ts) are
 * disjoint, and that name no custom field undeclared when the burst began, so that the
 * order in which the server takes them cannot change any answer.
 */
async function play(seq: Upsert[], setting: Setting, maxBurst: number): Promise<void> {
  const { store, clients } = await freshStore(setting);
  const model = newModelStore(setting);
  let burst: Sent[] = [];
  let taken = new Set<string>();
  let declaredAtStart = new Set<string>();
  const footprintOf = (a: Applied) => [
    ...a.footprint,
    ...a.fieldsNamed.filter((f) => !declaredAtStart.has(f)).map((f) => `field:${f}`),
  ];
  const flush = async () => {
    const answers = await Promise.all(
      burst.map((s) => send(store, clients[s.step % clients.length]!, s.u)),
    );
    for (const [i, s] of burst.entries()) checkAnswer(s, answers[i]!);
    burst = [];
    taken = new Set();
    declaredAtStart = new Set(Object.keys(model.fieldTypes));
  };
  for (const [step, u] of seq.entries()) {
    if (burst.length > 0) {
      // Tried on a copy first: if it overlaps the burst, the burst goes first, and the
      // model then applies it knowing the ids the server gave (they break merge ties).
      const trial = footprintOf(applyUpsert(structuredClone(model), u));
      if (burst.length >= maxBurst || trial.some((t) => taken.has(t))) await flush();
    }
    const applied = applyUpsert(model, u);
    for (const t of footprintOf(applied)) taken.add(t);
    burst.push({ step, u, expected: applied.outcome });
  }
  await flush();
  await compareStore(clients[0]!, model);
}

/** An answer in a line: status, result, matchedBy, and the customer as the model sees it. */
function brief(res: LightMyRequestResponse): string {
  const body = res.json();
  if (!body.customer) return `${res.statusCode} ${body.code ?? ''}`;
  const c = body.customer;
  return `${res.statusCode} ${body.result} by ${body.matchedBy}: ${c.id.slice(-6)} v${c.version} ${JSON.stringify(stateOf(c))}`;
}

/** Every order of a few things. */
function orders<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

/**
 * Sends bursts of upserts that may well touch the same customers, each burst's upserts
 * at once: the server may take them in any order, but as if one after another. So some
 * order of each burst, applied to the model, must give every answer the server gave;
 * the model goes on from that order, and the store is compared with it at the end.
 */
async function playOverlapping(bursts: Upsert[][], setting: Setting): Promise<void> {
  const { store, clients } = await freshStore(setting);
  // Several orders of a burst can give the same answers and still leave the store in
  // different states (a value freed by one upsert and claimed by another): every order
  // that fits is kept, and the store must match one of them at the end.
  let models = [newModelStore(setting)];
  let step = 0;
  for (const burst of bursts) {
    const sent = burst.map((u) => ({ step: step++, u }));
    const answers = await Promise.all(
      sent.map((s) => send(store, clients[s.step % clients.length]!, s.u)),
    );
    const fitted: ModelStore[] = [];
    let firstMiss: unknown;
    for (const model of models) {
      for (const order of orders(sent.map((_, i) => i))) {
        const trial = structuredClone(model);
        try {
          for (const i of order) {
            const expected = applyUpsert(trial, sent[i]!.u).outcome;
            checkAnswer({ ...sent[i]!, expected }, answers[i]!, knownRace);
          }
          if (fitted.length < 64) fitted.push(trial);
        } catch (miss) {
          firstMiss ??= miss;
        }
      }
    }
    if (fitted.length === 0) {
      const shown = sent.map(
        (s, i) => `  ${JSON.stringify(s.u.body)}\n    → ${brief(answers[i]!)}`,
      );
      throw new Error(
        `no order of burst ${JSON.stringify(sent.map((s) => s.step))} gives the server's answers:\n${shown.join('\n')}\n(in the order sent: ${String(firstMiss)})`,
      );
    }
    models = fitted;
  }
  let firstMismatch: unknown;
  for (const model of models) {
    try {
      await compareStore(clients[0]!, model);
      return;
    } catch (mismatch) {
      firstMismatch ??= mismatch;
    }
  }
  throw firstMismatch;
}

/**
 * Once excused here, and now fixed: an upsert whose locked look-up waited for a
 * customer's row lock judged identity by identifier rows from before that wait (see
 * ownersByState in core/customers/identity.ts, and its own test in concurrency.test.ts).
 * Every check runs on both databases; MODEL_STRICT is kept as a no-op for old scripts.
 */
const knownRace = false;

/**
 * Bounded: a failing run shrinks (each try a fresh store) for at most a minute and a half,
 * then reports the smallest sequence found so far.
 */
const runs = {
  numRuns: Number(process.env.MODEL_RUNS ?? 15),
  // MODEL_SEED replays a reported failure's seed.
  ...(process.env.MODEL_SEED ? { seed: Number(process.env.MODEL_SEED) } : {}),
  plugins: [fc.interruptAfterTimeLimit(90_000)],
};
const timeout = 150_000;

describe(`upserts against the reference model (${onPostgres ? 'two instances on PostgreSQL' : 'PGlite'})`, () => {
  for (const setting of ['reject', 'merge'] as const) {
    it(
      `(a) one at a time, identityConflict ${setting}`,
      async () => {
        await fc.assert(
          fc.asyncProperty(sequences(native(small)), (seq) => play(seq, setting, 1)),
          runs,
        );
      },
      timeout,
    );

    it(
      `(b) in concurrent bursts, identityConflict ${setting}`,
      async () => {
        await fc.assert(
          fc.asyncProperty(sequences(crowd), (seq) => play(seq, setting, 8)),
          runs,
        );
      },
      timeout,
    );

    it.skipIf(knownRace && setting === 'merge')(
      `(b) in overlapping bursts, in some order, identityConflict ${setting}`,
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.array(native(small), { minLength: 1, maxLength: 4 }), {
              minLength: 2,
              maxLength: 8,
            }),
            (bursts) => playOverlapping(bursts, setting),
          ),
          runs,
        );
      },
      timeout,
    );

    it(
      `(c) through Redo, Voucherify and the native API, identityConflict ${setting}`,
      async () => {
        await fc.assert(
          fc.asyncProperty(
            sequences(fc.oneof(native(small), redo(small), voucherify(small))),
            (seq) => play(seq, setting, 1),
          ),
          runs,
        );
      },
      timeout,
    );
  }
});
