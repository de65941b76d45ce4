import { describe, expect, it } from 'vitest';
import {
  type CustomerState,
  emptyState,
  type StoredCustomer,
} from '../../src/core/customers/customer.js';
import { mergeLimitProblems, planMerge } from '../../src/core/customers/merge.js';
import { diffByPart, pathsOf, withoutPath } from '../../src/core/customers/provenance.js';
import { type KeptMerge, planUndo } from '../../src/core/customers/unmerge.js';

/** The merge's plan and the undo's plan, pure: what each takes from whom, and gives back. */
const by = { api: 'native', keyId: null };
const now = new Date('2026-12-01T00:00:00Z');

function customer(id: string, state: Partial<CustomerState>, version = 1): StoredCustomer {
  return {
    id,
    seq: 1,
    version,
    mergedInto: null,
    createdAt: now,
    updatedAt: now,
    state: { ...emptyState(), ...state },
  };
}

const target = customer('cust_T', {
  email: 't@example.com',
  phoneNumbers: ['+14155550001'],
  customFields: { tier: 'gold' },
  loyalty: { status: 'non_loyalty', enrollments: [] },
});
const first = customer('cust_A', {
  email: 'a@example.com',
  firstName: 'Ann',
  phoneNumbers: ['+14155550002'],
  identifiers: [{ type: 'wechat', value: 'wx_a' }],
  customFields: { tier: 'silver', visits: 2 },
  channels: [
    { type: 'sms', value: '+14155550002', primary: true, verified: false, subscribed: true },
  ],
});
const second = customer('cust_B', {
  firstName: 'Bea',
  lastName: 'Bee',
  metadata: { source: 'b' },
  loyalty: {
    status: 'loyalty',
    enrollments: [
      { programId: 7, tierNumber: 1, points: 10, tierExpiresAt: null, pointsExpireAt: null },
    ],
  },
});

describe('planMerge', () => {
  const { state, events, merge } = planMerge(target, [first, second], by, 'request', 2, now);

  it('keeps the target, fills from the sources in order, unites the lists', () => {
    expect(state).toMatchObject({
      email: 't@example.com',
      firstName: 'Ann',
      lastName: 'Bee',
      phoneNumbers: ['+14155550001', '+14155550002'],
      identifiers: [{ type: 'wechat', value: 'wx_a' }],
      // The target's own email wins; the source's still finds it.
      mergedIdentifiers: [{ type: 'email', value: 'a@example.com' }],
      customFields: { tier: 'gold', visits: 2 },
      metadata: { source: 'b' },
      loyalty: { status: 'loyalty', enrollments: [{ programId: 7 }] },
    });
    expect(state.channels).toHaveLength(1);
  });

  it('records where each field of the result came from', () => {
    expect(merge.provenance).toEqual({
      email: 'cust_T',
      firstName: 'cust_A',
      lastName: 'cust_B',
      'customFields.tier': 'cust_T',
      'customFields.visits': 'cust_A',
      'metadata.source': 'cust_B',
      'phoneNumbers.+14155550001': 'cust_T',
      'phoneNumbers.+14155550002': 'cust_A',
      'identifiers.wechat:wx_a': 'cust_A',
      'mergedIdentifiers.email:a@example.com': 'cust_A',
      'channels.sms:+14155550002': 'cust_A',
      'loyalty.status': 'cust_B',
      'loyalty.enrollments.7': 'cust_B',
    });
    expect(merge.snapshot?.target).toEqual(target.state);
    expect(merge.snapshot?.sources.map((s) => s.id)).toEqual(['cust_A', 'cust_B']);
  });

  it('writes a record on the target per source, and one on each source, naming the merge', () => {
    expect(events.map((e) => [e.customerId, e.type, e.previousVersion, e.version])).toEqual([
      ['cust_T', 'merged', 1, 2],
      ['cust_A', 'merged', 1, 2],
      ['cust_T', 'merged', 1, 2],
      ['cust_B', 'merged', 1, 2],
    ]);
    expect(events[0]?.changes).toMatchObject({
      mergedFrom: 'cust_A',
      mergeId: merge.id,
      changes: { 'customFields.visits': { before: null, after: 2 } },
    });
  });

  it('is undone to exactly what each had, when nothing changed since', () => {
    const merged = customer('cust_T', state, 2);
    const plan = planUndo(merge as KeptMerge, merged, new Map());
    expect(plan.collisions).toEqual([]);
    expect(plan.target).toEqual(target.state);
    expect(plan.sources.map((s) => s.state)).toEqual([first.state, second.state]);
  });

  it('keeps what was written since, and leaves an identifier with whoever holds it now', () => {
    const since = customer(
      'cust_T',
      { ...state, firstName: 'Tia', customFields: { tier: 'gold' } },
      3,
    );
    const heldBy = new Map([['wechat\u0000wx_a', 'cust_OTHER']]);
    const plan = planUndo(merge as KeptMerge, since, heldBy);
    expect(plan.target.firstName).toBe('Tia');
    expect(plan.target.customFields).toEqual({ tier: 'gold' });
    expect(plan.collisions.map((c) => [c.path, c.customerId, c.heldBy])).toEqual([
      ['firstName', 'cust_A', 'cust_T'],
      ['identifiers.wechat:wx_a', 'cust_A', 'cust_OTHER'],
    ]);
    expect(plan.sources[0]?.state.identifiers).toEqual([]);
    expect(plan.sources[0]?.state.firstName).toBe('Ann');
  });
});

describe('merged identifiers', () => {
  const a = customer('cust_A', { email: 'a@example.com', externalId: 'A-1' });
  const b = customer('cust_B', { email: 'b@example.com', externalId: 'B-1' });
  const c = customer('cust_C', { email: 'c@example.com' });

  it("carry a source's email and external id the target's own replaced, and those it carried", () => {
    const intoB = planMerge(b, [a], by, 'request', 2, now);
    expect(intoB.state.mergedIdentifiers).toEqual([
      { type: 'externalId', value: 'A-1' },
      { type: 'email', value: 'a@example.com' },
    ]);
    const intoC = planMerge(c, [customer('cust_B', intoB.state, 2)], by, 'request', 2, now);
    // C had no external id: it takes B's, and answers to A's and both emails.
    expect(intoC.state.externalId).toBe('B-1');
    expect(intoC.state.mergedIdentifiers).toEqual([
      { type: 'email', value: 'b@example.com' },
      { type: 'externalId', value: 'A-1' },
      { type: 'email', value: 'a@example.com' },
    ]);
    expect(intoC.merge.provenance).toMatchObject({
      externalId: 'cust_B',
      'mergedIdentifiers.email:b@example.com': 'cust_B',
      'mergedIdentifiers.email:a@example.com': 'cust_B',
    });
    // The undo of the second merge takes all three back to B, which answers to A's again.
    const plan = planUndo(intoC.merge as KeptMerge, customer('cust_C', intoC.state, 2), new Map());
    expect(plan.collisions).toEqual([]);
    expect(plan.target).toEqual(c.state);
    expect(plan.sources[0]?.state.mergedIdentifiers).toEqual(intoB.state.mergedIdentifiers);
  });

  it('an undo leaves a merged identifier someone else holds now, and the source keeps its own email', () => {
    const intoB = planMerge(b, [a], by, 'request', 2, now);
    const intoC = planMerge(c, [customer('cust_B', intoB.state, 2)], by, 'request', 2, now);
    // Since: C lets A's old email go, and customer D takes it.
    const since = customer(
      'cust_C',
      withoutPath(intoC.state, 'mergedIdentifiers.email:a@example.com'),
      3,
    );
    const heldBy = new Map([['email\u0000a@example.com', 'cust_D']]);
    const plan = planUndo(intoC.merge as KeptMerge, since, heldBy);
    expect(plan.collisions.map((x) => [x.path, x.customerId, x.heldBy])).toEqual([
      ['mergedIdentifiers.email:a@example.com', 'cust_B', 'cust_D'],
    ]);
    expect(plan.sources[0]?.state).toMatchObject({
      email: 'b@example.com',
      mergedIdentifiers: [{ type: 'externalId', value: 'A-1' }],
    });
  });

  it('a merge taking a customer past 50 of them is refused', () => {
    const many = customer('cust_M', {
      email: 'm@example.com',
      mergedIdentifiers: Array.from({ length: 50 }, (_, i) => ({
        type: 'email' as const,
        value: `old${i}@example.com`,
      })),
    });
    // It has no external id: it takes A's, and answers to A's email, its 51st.
    const { state } = planMerge(many, [a], by, 'request', 2, now);
    expect(mergeLimitProblems(state)).toEqual([
      {
        path: '/mergedIdentifiers',
        message:
          'merging these customers would give 51 merged emails and external ids; a customer has at most 50',
      },
    ]);
  });
});

describe('paths', () => {
  it('name every value, and each can be taken away alone', () => {
    const state = {
      ...emptyState(),
      email: 'x@example.com',
      location: { ...emptyState().location, city: 'Oslo' },
    };
    expect([...pathsOf(state).keys()]).toEqual(['email', 'location.city']);
    expect(withoutPath(state, 'location.city').location.city).toBeNull();
    expect(diffByPart(state, withoutPath(state, 'location.city'))).toEqual({
      'location.city': { before: 'Oslo', after: null },
    });
  });
});
