import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';

/** An import that completes is an event a webhook endpoint can subscribe to alone. */
let t: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  t = await startTestApp(undefined, {
    imports: { idleMs: 20 },
    webhooks: { allowPrivate: true, allowHttp: true, leaseMs: 5000 },
  });
  t.clientele.imports.startWorking();
  receiver = await startReceiver();
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

it('delivers import.completed, signed, to an endpoint subscribed to it alone', async () => {
  const store = await t.createStore();
  const api = t.as(store);
  const made = await api.request('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
    url: receiver.url,
    events: ['import.completed'],
  });
  expect(made.statusCode, made.body).toBe(201);
  const posted = await t.app.inject({
    method: 'POST',
    url: `/v1/stores/${store.id}/imports`,
    headers: { authorization: `Bearer ${store.apiKey}`, 'content-type': 'text/csv' },
    payload: 'email,firstName\nann@example.com,Ann\nbob@example.com,Bob\n',
  });
  expect(posted.statusCode, posted.body).toBe(202);
  const deadline = Date.now() + 20_000;
  while (receiver.received.length === 0) {
    if (Date.now() > deadline) throw new Error('import.completed was not delivered');
    await t.clientele.webhooks.sender.tick();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Only the import's event: the customers' own were not subscribed to.
  expect(receiver.received).toHaveLength(1);
  const [delivery] = receiver.received;
  new Webhook(made.json().secret).verify(
    delivery?.body as string,
    delivery?.headers as Record<string, string>,
  );
  const event = JSON.parse(delivery?.body as string);
  expect(event).toMatchObject({
    type: 'import.completed',
    storeId: store.id,
    data: { import: { id: posted.json().id, status: 'completed', created: 2, failed: 0 } },
  });
  expect(delivery?.headers['webhook-id']).toBe(event.id);
});
