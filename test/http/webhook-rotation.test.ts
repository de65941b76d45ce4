import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

/**
 * A fan-out round takes at most 50 endpoints (webhooks/sender.ts); rounds rotate through
 * every enabled endpoint (migration 0023), so past 50 each still gets every event. Across
 * stores, as one PostgreSQL runs it, and store by store, as Citus does (with more than 50
 * endpoints in one store).
 */
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});

describe.each([
  { mode: 'across stores', perStore: false, endpointsByStore: [20, 20, 20] },
  { mode: 'store by store', perStore: true, endpointsByStore: [55, 5] },
])('fan-out $mode', ({ perStore, endpointsByStore }) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(undefined, {
      webhooks: { allowPrivate: true, allowHttp: true, perStore, idleMs: 20 },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('reaches every one of more than 50 enabled endpoints, with every event', async () => {
    receiver.received.length = 0;
    const stores: TestStore[] = [];
    const endpoints: string[] = [];
    for (const [s, count] of endpointsByStore.entries()) {
      const store = await t.createStore(`rotation ${s}`);
      stores.push(store);
      for (let i = 0; i < count; i++) {
        const res = await t.as(store).request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
          url: `${receiver.url}?to=s${s}e${i}`,
          events: ['*'],
        });
        expect(res.statusCode, res.body).toBe(201);
        endpoints.push(`s${s}e${i}`);
      }
    }
    expect(endpoints.length).toBeGreaterThan(50);
    t.clientele.webhooks.startSending();
    try {
      for (const [s, store] of stores.entries()) {
        expect((await t.as(store).upsert({ email: `r${s}@example.com` })).statusCode).toBe(201);
        expect(
          (await t.as(store).upsert({ email: `r${s}@example.com`, firstName: 'Two' })).statusCode,
        ).toBe(200);
      }
      const total = endpoints.length * 2;
      await receiver.until((r) => r.length >= total, 60_000);
      await new Promise((r) => setTimeout(r, 300)); // time for a second delivery of any
      // Each endpoint got its store's two events, once each and in version order.
      const byEndpoint = new Map<string, number[]>();
      for (const r of receiver.received) {
        const to = new URL(r.url, 'http://x').searchParams.get('to') as string;
        const event = JSON.parse(r.body) as { data: { version: number } };
        byEndpoint.set(to, [...(byEndpoint.get(to) ?? []), event.data.version]);
      }
      expect([...byEndpoint.keys()].sort()).toEqual([...endpoints].sort());
      for (const [to, versions] of byEndpoint) expect(versions, to).toEqual([1, 2]);
    } finally {
      await t.clientele.webhooks.stopSending();
    }
  });
});
