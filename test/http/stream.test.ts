import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM } from '../../src/core/events/stream.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { feedCaughtUp } from '../helpers/database.js';

/** The NATS server with JetStream this machine runs (CI's too). */
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

let t: TestApp;
let nc: NatsConnection;

beforeAll(async () => {
  t = await startTestApp(undefined, { natsUrl: NATS_URL });
  await t.clientele.stream?.start();
  nc = await connect({ servers: NATS_URL });
});
afterAll(async () => {
  await t.close();
  await nc.drain();
});

describe('events on NATS JetStream', () => {
  it('publishes every event of a store, once, under its type, with its id as Nats-Msg-Id', async () => {
    const store = await t.createStore();
    const api = t.as(store);
    // The store's place in the stream starts at the feed's present: give it one round.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api.upsert({ email: 'nats@example.com', firstName: 'Na' });
    await api.upsert({ email: 'nats@example.com', lastName: 'Ts' });
    await api.upsert({ email: 'other-nats@example.com' });
    await feedCaughtUp(t.clientele.db);
    const feed = (await api.get('/events')).json().data as { id: string; type: string }[];
    expect(feed).toHaveLength(3);

    // Every store's events are on the stream (a server before NATS 2.10 cannot filter an
    // ordered consumer by several subjects): keep this store's.
    const consumer = await jetstream(nc).consumers.get(STREAM);
    const got: { subject: string; id: string | undefined; body: unknown }[] = [];
    const messages = await consumer.consume();
    const deadline = setTimeout(() => messages.stop(), 15_000);
    for await (const m of messages) {
      if (!m.subject.startsWith(`clientele.${store.id}.`)) continue;
      got.push({ subject: m.subject, id: m.headers?.get('Nats-Msg-Id'), body: m.json() });
      if (got.length === feed.length) break;
    }
    clearTimeout(deadline);
    expect(got.map((g) => g.id)).toEqual(feed.map((e) => e.id));
    expect(got.map((g) => g.subject)).toEqual(feed.map((e) => `clientele.${store.id}.${e.type}`));
    expect(got.map((g) => g.body)).toEqual(feed);
  });
});
