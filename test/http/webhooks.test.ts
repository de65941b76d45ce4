import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StoreClient, startTestApp, type TestApp } from '../helpers/app.js';
import { feedCaughtUp, onPostgres } from '../helpers/database.js';
import { type Received, type Receiver, startReceiver } from '../helpers/receiver.js';

let t: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  // Retries 30 ms apart here; the real schedule (schedule.ts) spans three days.
  t = await startTestApp(undefined, {
    webhooks: { allowPrivate: true, allowHttp: true, schedule: [30, 30, 30], leaseMs: 5000 },
  });
  receiver = await startReceiver();
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});
afterEach(() => {
  receiver.received.length = 0;
  receiver.answer = () => 200;
});

/** Runs delivery rounds until the receiver has what it waits for. */
async function deliverUntil(predicate: (r: Received[]) => boolean) {
  const deadline = Date.now() + 20_000;
  while (!predicate(receiver.received)) {
    if (Date.now() > deadline)
      throw new Error(`not delivered (${receiver.received.length} received)`);
    await t.clientele.webhooks.sender.tick();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One delivery round, once the feed shows every write so far (helpers/database.ts). */
async function oneRound(sender = t.clientele.webhooks.sender) {
  await feedCaughtUp(t.clientele.db);
  await sender.tick();
}

async function subscribed(events: string[] = ['*']) {
  const store = await t.createStore();
  const api = t.as(store);
  const res = await api.request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
    url: receiver.url,
    events,
    description: 'the back office',
  });
  expect(res.statusCode, res.body).toBe(201);
  return { store, api, endpoint: res.json() as { id: string; secret: string } };
}

const bodies = (received: Received[], storeId: string) =>
  received.map((r) => JSON.parse(r.body)).filter((b) => b.storeId === storeId);

describe('webhooks', () => {
  it('delivers each change, signed as Standard Webhooks sign, with the feed’s event', async () => {
    const { store, api, endpoint } = await subscribed();
    expect(endpoint.secret).toMatch(/^whsec_/);
    await api.upsert({ email: 'hook@example.com', firstName: 'Ho' });
    await api.upsert({ email: 'hook@example.com', lastName: 'Ok' });
    await deliverUntil((r) => bodies(r, store.id).length === 2);

    const verifier = new Webhook(endpoint.secret);
    for (const r of receiver.received) {
      // Throws unless the signature, id and timestamp are right.
      verifier.verify(r.body, r.headers as Record<string, string>);
    }
    const feed = (await api.get('/events')).json().data;
    expect(bodies(receiver.received, store.id)).toEqual(feed);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(
      feed.map((e: { id: string }) => e.id),
    );
    // A wrong secret does not verify.
    expect(() =>
      new Webhook(`whsec_${Buffer.from('not the secret at all!!').toString('base64')}`).verify(
        receiver.received[0]?.body as string,
        receiver.received[0]?.headers as Record<string, string>,
      ),
    ).toThrow();
  });

  it('shows the secret once, and keeps it sealed in the database', async () => {
    const { store, api, endpoint } = await subscribed();
    const list = await api.get('/webhook-endpoints');
    const one = await api.get(`/webhook-endpoints/${endpoint.id}`);
    const patched = await api.request(
      'PATCH',
      `/v1/stores/${store.id}/webhook-endpoints/${endpoint.id}`,
      {
        description: 'renamed',
      },
    );
    for (const res of [list, one, patched]) {
      expect(res.statusCode, res.body).toBe(200);
      expect(res.body).not.toContain(endpoint.secret);
      expect(res.body).not.toContain('secret');
    }
    const { rows } = await sql<{ secret: string }>`
      SELECT secret FROM webhook_endpoints WHERE id = ${endpoint.id}`.execute(t.clientele.db);
    expect(rows[0]?.secret).toMatch(/^v1\./);
    expect(rows[0]?.secret).not.toContain(endpoint.secret.slice(6));
  });

  it('retries a failing receiver with backoff, and logs each attempt', async () => {
    const { store, api, endpoint } = await subscribed();
    let calls = 0;
    receiver.answer = () => (++calls <= 2 ? 500 : 200);
    await api.upsert({ email: 'retry@example.com' });
    await deliverUntil((r) => bodies(r, store.id).length === 3);
    const log = (await api.get(`/webhook-endpoints/${endpoint.id}/attempts`)).json();
    expect(log.data.map((a: { status: number }) => a.status)).toEqual([200, 500, 500]);
    expect(log.data.map((a: { attempt: number }) => a.attempt)).toEqual([3, 2, 1]);
    expect(log.data[1].response).toBe('no: 500');
    expect(log.pending).toBe(0);
    // One event, delivered under one id each time.
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const state = (await api.get(`/webhook-endpoints/${endpoint.id}`)).json();
    expect(state.failingSince).toBeNull();
  });

  it('gives up after the last retry, and disables an endpoint that answers 410 Gone', async () => {
    const { store, api, endpoint } = await subscribed();
    receiver.answer = () => 503;
    await api.upsert({ email: 'never@example.com' });
    // The first attempt and three retries.
    await deliverUntil((r) => bodies(r, store.id).length === 4);
    for (let i = 0; i < 5; i++) await oneRound();
    expect(bodies(receiver.received, store.id).length).toBe(4);
    const failing = (await api.get(`/webhook-endpoints/${endpoint.id}`)).json();
    expect(failing.failingSince).not.toBeNull();

    receiver.answer = () => 410;
    await api.upsert({ email: 'gone@example.com' });
    await deliverUntil((r) => bodies(r, store.id).length === 5);
    const gone = (await api.get(`/webhook-endpoints/${endpoint.id}`)).json();
    expect(gone.enabled).toBe(false);
    expect(gone.disabledReason).toMatch(/410/);
    // Disabled: nothing more goes out, and turning it back on resumes where it stopped.
    receiver.answer = () => 200;
    await api.upsert({ email: 'later@example.com' });
    for (let i = 0; i < 5; i++) await oneRound();
    expect(bodies(receiver.received, store.id).length).toBe(5);
    const on = await api.request(
      'PATCH',
      `/v1/stores/${store.id}/webhook-endpoints/${endpoint.id}`,
      {
        enabled: true,
      },
    );
    expect(on.json().disabledReason).toBeNull();
    await deliverUntil((r) =>
      bodies(r, store.id).some((b) => b.data.customer.email === 'later@example.com'),
    );
  });

  it('delivers one customer’s events in version order, while others’ flow past a failing one', async () => {
    const { store, api } = await subscribed(['customer.created', 'customer.updated']);
    receiver.answer = (r) =>
      JSON.parse(r.body).data.customer.email === 'slow@example.com' &&
      JSON.parse(r.body).data.version === 1 &&
      receiver.received.length < 4
        ? 500
        : 200;
    await api.upsert({ email: 'slow@example.com' });
    for (let v = 0; v < 3; v++)
      await api.upsert({ email: 'slow@example.com', customFields: { v } });
    await api.upsert({ email: 'fast@example.com' });
    await deliverUntil((r) => bodies(r, store.id).filter((b) => b.data.version).length >= 7);
    const delivered = bodies(receiver.received, store.id);
    const slow = delivered.filter((b) => b.data.customer.email === 'slow@example.com');
    // 1 (failed), 1 (failed)..., then 1, 2, 3, 4 in order; never 2 before 1 succeeded.
    const firstOk = slow.findIndex((b, i) => b.data.version === 1 && i >= slow.length - 4);
    expect(slow.slice(firstOk).map((b) => b.data.version)).toEqual([1, 2, 3, 4]);
    expect(slow.slice(0, firstOk).every((b) => b.data.version === 1)).toBe(true);
  });

  it('signs with both secrets for a day after a rotation', async () => {
    const { store, api, endpoint } = await subscribed();
    const rotated = await api.request(
      'POST',
      `/v1/stores/${store.id}/webhook-endpoints/${endpoint.id}/rotate-secret`,
    );
    expect(rotated.statusCode).toBe(200);
    const { secret } = rotated.json();
    expect(secret).not.toBe(endpoint.secret);
    await api.upsert({ email: 'rotate@example.com' });
    await deliverUntil((r) => bodies(r, store.id).length === 1);
    const r = receiver.received[0] as Received;
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const s of [secret, endpoint.secret]) {
      new Webhook(s).verify(r.body, r.headers as Record<string, string>);
    }
  });

  it('pings, redelivers one event under its id, and replays every event since a time', async () => {
    const { store, api, endpoint } = await subscribed();
    const path = `/v1/stores/${store.id}/webhook-endpoints/${endpoint.id}`;
    const ping = await api.request('POST', `${path}/ping`);
    expect(ping.statusCode, ping.body).toBe(200);
    expect(ping.json()).toMatchObject({ status: 200, response: 'ok' });
    expect(JSON.parse(receiver.received[0]?.body as string).type).toBe('webhook.ping');
    new Webhook(endpoint.secret).verify(
      receiver.received[0]?.body as string,
      receiver.received[0]?.headers as Record<string, string>,
    );

    const since = new Date(Date.now() - 1000).toISOString();
    await api.upsert({ email: 'again@example.com' });
    await api.upsert({ email: 'again2@example.com' });
    await deliverUntil(
      (r) => bodies(r, store.id).filter((b) => b.type !== 'webhook.ping').length === 2,
    );
    const [first] = (await api.get('/events')).json().data;
    const redo = await api.request('POST', `${path}/redeliver`, { eventId: first.id });
    expect(redo.statusCode, redo.body).toBe(202);
    await deliverUntil((r) => r.filter((x) => x.headers['webhook-id'] === first.id).length === 2);
    const replay = await api.request('POST', `${path}/replay`, { since });
    expect(replay.json()).toEqual({ queued: 2 });
    await deliverUntil(
      (r) => bodies(r, store.id).filter((b) => b.type !== 'webhook.ping').length === 5,
    );
  });

  it('refuses bad input by name and saves nothing', async () => {
    const store = await t.createStore();
    const api = t.as(store);
    const create = (body: unknown) =>
      api.request('POST', `/v1/stores/${store.id}/webhook-endpoints`, body);
    const cases: [unknown, string][] = [
      [{ url: 'ftp://example.com/x', events: ['*'] }, '/url'],
      [{ url: 'not a url', events: ['*'] }, '/url'],
      [{ url: receiver.url, events: ['customer.exploded'] }, '/events/0'],
      [{ url: receiver.url, events: [] }, '/events'],
      [{ url: 'https://user:pw@example.com/', events: ['*'] }, '/url'],
    ];
    for (const [body, path] of cases) {
      const res = await create(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await api.get('/webhook-endpoints')).json().data).toEqual([]);
    const mine = await subscribed();
    const replay = (since: string, client: StoreClient = mine.api, storeId = mine.store.id) =>
      client.request('POST', `/v1/stores/${storeId}/webhook-endpoints/${mine.endpoint.id}/replay`, {
        since,
      });
    for (const since of ['2020-01-01T00:00:00Z', 'yesterday', '2999-01-01T00:00:00Z']) {
      const res = await replay(since);
      expect(res.statusCode, since).toBe(400);
      expect(res.json().errors[0].path).toBe('/since');
    }
    // Another store's endpoint is not found from this store.
    expect((await replay(new Date().toISOString(), api, store.id)).statusCode).toBe(404);
  });

  it('follows no redirect, reads a bounded answer, and keeps its first KiB', async () => {
    const { store, api, endpoint } = await subscribed();
    const { createServer } = await import('node:http');
    const other = createServer((_, res) => {
      res.writeHead(302, { location: receiver.url }).end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as { port: number }).port;
    const big = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(2_000_000));
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    try {
      const path = `/v1/stores/${store.id}/webhook-endpoints/${endpoint.id}`;
      await api.request('PATCH', path, { url: `http://127.0.0.1:${port}/moved` });
      await api.upsert({ email: 'redirect@example.com' });
      await oneRound();
      let log = (await api.get(`/webhook-endpoints/${endpoint.id}/attempts`)).json();
      expect(log.data[0].status).toBe(302);
      expect(receiver.received).toHaveLength(0);

      await api.request('PATCH', path, {
        url: `http://127.0.0.1:${(big.address() as { port: number }).port}/big`,
      });
      const ping = await api.request('POST', `${path}/ping`);
      expect(ping.json().status).toBe(200);
      expect(ping.json().response).toHaveLength(1024);
      log = (await api.get(`/webhook-endpoints/${endpoint.id}/attempts`)).json();
      expect(log.data[0].response).toHaveLength(1024);
    } finally {
      other.close();
      big.close();
    }
  });

  it('disables an endpoint whose every attempt has failed for five days, and says why', async () => {
    const { store, api, endpoint } = await subscribed();
    receiver.answer = () => 500;
    await api.upsert({ email: 'five-days@example.com' });
    await deliverUntil((r) => bodies(r, store.id).length === 1);
    await sql`UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 hour'
      WHERE id = ${endpoint.id}`.execute(t.clientele.db);
    await deliverUntil((r) => bodies(r, store.id).length === 2);
    const state = (await api.get(`/webhook-endpoints/${endpoint.id}`)).json();
    expect(state.enabled).toBe(false);
    expect(state.disabledReason).toMatch(/every attempt has failed since/);
  });

  it('a receiver that was down gets everything once it is back', async () => {
    const { store, api, endpoint } = await subscribed();
    const path = `/v1/stores/${store.id}/webhook-endpoints/${endpoint.id}`;
    // Nothing listens there: every attempt is refused a connection.
    await api.request('PATCH', path, { url: 'http://127.0.0.1:9/down' });
    for (let i = 0; i < 5; i++) await api.upsert({ email: `down${i}@example.com` });
    await oneRound();
    const log = (await api.get(`/webhook-endpoints/${endpoint.id}/attempts`)).json();
    expect(log.data.length).toBeGreaterThan(0);
    expect(log.data[0].status).toBeNull();
    expect(log.data[0].error).toMatch(/ECONNREFUSED/);
    await api.request('PATCH', path, { url: receiver.url });
    await deliverUntil((r) => bodies(r, store.id).length === 5);
    expect(
      bodies(receiver.received, store.id)
        .map((b) => b.data.customer.email)
        .sort(),
    ).toEqual(['down0', 'down1', 'down2', 'down3', 'down4'].map((d) => `${d}@example.com`));
  });

  it.runIf(onPostgres)(
    'checks the address again at delivery: a process that does not allow private ones sends nothing there',
    async () => {
      const { store, api, endpoint } = await subscribed();
      // Another process on the same database, with the default policy.
      const strict = await t.database.open({ webhooks: {} });
      try {
        await api.upsert({ email: 'rebind@example.com' });
        await oneRound(strict.webhooks.sender);
        const log = (await api.get(`/webhook-endpoints/${endpoint.id}/attempts`)).json();
        expect(log.data[0].status).toBeNull();
        expect(log.data[0].error).toMatch(/private/);
        expect(bodies(receiver.received, store.id)).toHaveLength(0);
      } finally {
        await strict.close();
      }
    },
  );

  it('refuses private addresses and plain http unless the operator allows them', async () => {
    const strict = await startTestApp(undefined, { webhooks: {} });
    try {
      const store = await strict.createStore();
      const api = strict.as(store);
      for (const url of [
        'http://example.com/hooks',
        'https://127.0.0.1/hooks',
        'https://10.1.2.3/hooks',
        'https://169.254.169.254/latest',
        'https://[::1]/hooks',
        'https://localhost/hooks',
      ]) {
        const res = await api.request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
          url,
          events: ['*'],
        });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().errors[0].path).toBe('/url');
      }
    } finally {
      await strict.close();
    }
  });
});
