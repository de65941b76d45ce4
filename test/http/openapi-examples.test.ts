import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp, type TestStore } from '../helpers/app.js';
import { feedCaughtUp } from '../helpers/database.js';

/**
 * What the reference shows of each write, tried on the real app: every write the
 * document lists is sent with its example body, twice with one Idempotency-Key. The
 * example must be accepted, and the retry must be answered from the first answer exactly
 * when the document says the write takes the header.
 */
type Operation = {
  operationId: string;
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { example?: unknown }> };
};

let t: TestApp;
let store: TestStore;
let document: { paths: Record<string, Record<string, Operation>> };
/** Ids the writes before a write left, for the paths of the ones after it. */
const made: {
  keyId?: string;
  endpointId?: string;
  importId?: string;
  segmentId?: string;
  customerId?: string;
  targetId?: string;
  sourceId?: string;
  mergeId?: string;
} = {};

beforeAll(async () => {
  t = await startTestApp();
  store = await t.createStore('examples');
  document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(() => t.close());

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * How each write is reached: its path's ids, its query and its platform's credentials.
 * In the order they run: Capillary updates the customer the native upsert made.
 */
const requests: Record<string, () => { url: string; headers: Record<string, string> }> = {
  createStore: () => ({ url: '/v1/stores', headers: admin() }),
  updateStore: () => ({ url: `/v1/stores/${store.id}`, headers: admin() }),
  createApiKey: () => ({ url: `/v1/stores/${store.id}/api-keys`, headers: admin() }),
  revokeApiKey: () => ({ url: `/v1/stores/${store.id}/api-keys/${made.keyId}`, headers: admin() }),
  eraseCustomer: () => ({
    url: `/v1/stores/${store.id}/customers/${made.customerId}`,
    headers: bearer(),
  }),
  // The erasure above suppressed its email.
  liftSuppression: () => ({
    url: `/v1/stores/${store.id}/suppressions?email=erased-by-example%40example.com`,
    headers: bearer(),
  }),
  upsertCustomer: () => ({ url: `/v1/stores/${store.id}/customers`, headers: bearer() }),
  mergeCustomers: () => ({
    url: `/v1/stores/${store.id}/customers/${made.targetId}/merge`,
    headers: bearer(),
  }),
  // The source's email, which the target's own replaced, before the undo gives it back.
  removeMergedIdentifier: () => ({
    url: `/v1/stores/${store.id}/customers/${made.targetId}/merged-identifiers/email/merge-source%40example.com`,
    headers: bearer(),
  }),
  undoMerge: () => ({
    url: `/v1/stores/${store.id}/merges/${made.mergeId}/undo`,
    headers: bearer(),
  }),
  removePhoneNumber: () => ({
    url: `/v1/stores/${store.id}/customers/${made.targetId}/phone-numbers/%2B14155550991`,
    headers: bearer(),
  }),
  removeIdentifier: () => ({
    url: `/v1/stores/${store.id}/customers/${made.targetId}/identifiers/wechat/wx_example`,
    headers: bearer(),
  }),
  createWebhookEndpoint: () => ({
    url: `/v1/stores/${store.id}/webhook-endpoints`,
    headers: bearer(),
  }),
  updateWebhookEndpoint: () => ({ url: endpoint(), headers: bearer() }),
  rotateWebhookSecret: () => ({ url: `${endpoint()}/rotate-secret`, headers: bearer() }),
  pingWebhookEndpoint: () => ({ url: `${endpoint()}/ping`, headers: bearer() }),
  redeliverWebhookEvent: () => ({ url: `${endpoint()}/redeliver`, headers: bearer() }),
  replayWebhookEvents: () => ({ url: `${endpoint()}/replay`, headers: bearer() }),
  deleteWebhookEndpoint: () => ({ url: endpoint(), headers: bearer() }),
  createSegment: () => ({ url: `/v1/stores/${store.id}/segments`, headers: bearer() }),
  previewSegment: () => ({ url: `/v1/stores/${store.id}/segments/preview`, headers: bearer() }),
  updateSegment: () => ({
    url: `/v1/stores/${store.id}/segments/${made.segmentId}`,
    headers: bearer(),
  }),
  deleteSegment: () => ({
    url: `/v1/stores/${store.id}/segments/${made.segmentId}`,
    headers: bearer(),
  }),
  redoUpsertCustomer: () => ({
    url: `/compat/redo/v2.2/stores/${store.id}/customers`,
    headers: bearer(),
  }),
  yotpoCreateAccessToken: () => ({
    url: `/compat/yotpo/core/v3/stores/${store.id}/access_tokens`,
    headers: {},
  }),
  yotpoUpsertCustomer: () => ({
    url: `/compat/yotpo/core/v3/stores/${store.id}/customers`,
    headers: { 'x-yotpo-token': store.apiKey },
  }),
  capillaryUpdateCustomer: () => ({
    url: '/compat/capillary/v2/customers/lookup?identifierName=email&identifierValue=jane@example.com&source=INSTORE',
    headers: { authorization: basic(store.id, store.apiKey) },
  }),
  cheqpayUpsertCustomer: () => ({
    url: '/compat/cheqpay/customers/add-update',
    headers: { 'x-api-key': store.apiKey, 'x-merchant-id': store.id },
  }),
  voucherifyUpsertCustomer: () => ({ url: '/compat/voucherify/v1/customers', headers: app() }),
  voucherifyUpdateCustomer: () => ({
    url: '/compat/voucherify/v1/customers/source_123',
    headers: app(),
  }),
  createImport: () => ({ url: `/v1/stores/${store.id}/imports`, headers: bearer() }),
  cancelImport: () => ({
    url: `/v1/stores/${store.id}/imports/${made.importId}/cancel`,
    headers: bearer(),
  }),
  voucherifyDeleteCustomer: () => ({
    url: '/compat/voucherify/v1/customers/source_123',
    headers: app(),
  }),
};
const endpoint = () => `/v1/stores/${store.id}/webhook-endpoints/${made.endpointId}`;
const admin = () => ({ authorization: `Bearer ${ADMIN_TOKEN}` });
const bearer = () => ({ authorization: `Bearer ${store.apiKey}` });
const app = () => ({ 'x-app-id': store.id, 'x-app-token': store.apiKey });

/**
 * The example, with what only this run can know in place of what the reference shows: a
 * real secret for `ck_…`, a real event for `evt_01JD…`, an hour ago for the replay's
 * time, and a receiver on this machine (where nothing listens) for the example's URL.
 */
async function bodyOf(operation: Operation): Promise<unknown> {
  const example = operation.requestBody?.content['application/json']?.example;
  if (example === undefined) {
    // A file (an import's): its first media type's example, as it is.
    const [type, file] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [];
    return type && typeof file?.example === 'string' ? { type, text: file.example } : undefined;
  }
  await feedCaughtUp(t.clientele.db);
  const events = (await t.as(store).get('/events')).json().data as { id: string }[];
  const real: Record<string, string> = {
    'ck_…': store.apiKey,
    'evt_01JD…': events[0]?.id ?? '',
    'cust_01JD…': made.sourceId ?? '',
    '2026-12-01T00:00:00Z': new Date(Date.now() - 3_600_000).toISOString(),
    'https://example.com/hooks/clientele': 'http://127.0.0.1:9/hooks/clientele',
  };
  let text = JSON.stringify(example);
  for (const [shown, value] of Object.entries(real)) {
    text = text.replaceAll(JSON.stringify(shown), JSON.stringify(value));
  }
  return JSON.parse(text);
}

describe('the reference, tried', () => {
  it('every write is accepted with its example, and a retry with its Idempotency-Key is answered again where the document says so', async () => {
    const writes = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    );
    const ids = writes.map((w) => w.operation.operationId);
    expect(
      ids.filter((id) => !(id in requests)),
      'writes with no request here',
    ).toEqual([]);

    for (const id of Object.keys(requests)) {
      const write = writes.find((w) => w.operation.operationId === id);
      expect(write, `${id} is in the document`).toBeDefined();
      if (!write) continue;
      if (id === 'eraseCustomer') {
        const created = await t.as(store).upsert({ email: 'erased-by-example@example.com' });
        made.customerId = created.json().customer.id;
      }
      if (id === 'mergeCustomers') {
        const c = t.as(store);
        made.targetId = (
          await c.upsert({
            email: 'merge-target@example.com',
            phoneNumber: '+14155550991',
            identifiers: [{ type: 'wechat', value: 'wx_example' }],
          })
        ).json().customer.id;
        made.sourceId = (await c.upsert({ email: 'merge-source@example.com' })).json().customer.id;
      }
      if (id === 'revokeApiKey') {
        const key = await t.admin('POST', `/v1/stores/${store.id}/api-keys`);
        made.keyId = key.json().id;
      }
      const { url, headers } = requests[id]?.() ?? { url: '', headers: {} };
      const body = await bodyOf(write.operation);
      const file = body as { type?: string; text?: string } | undefined;
      const send = (): Promise<LightMyRequestResponse> =>
        t.app.inject({
          method: write.method as 'POST',
          url,
          headers: {
            ...headers,
            'idempotency-key': `example-${id}`,
            ...(file?.type ? { 'content-type': file.type } : {}),
          },
          ...(body === undefined ? {} : { payload: (file?.text ?? body) as object }),
        });
      const first = await send();
      expect(first.statusCode, `${id}: ${first.body}`).toBeLessThan(300);
      if (id === 'createWebhookEndpoint') made.endpointId = first.json().id;
      if (id === 'createImport') made.importId = first.json().id;
      if (id === 'createSegment') made.segmentId = first.json().id;
      if (id === 'mergeCustomers') made.mergeId = first.json().merge.id;
      const again = await send();
      const documented = (write.operation.parameters ?? []).some(
        (p) => p.in === 'header' && p.name === 'Idempotency-Key',
      );
      expect(again.headers['idempotent-replayed'] === 'true', id).toBe(documented);
      if (documented) {
        expect(again.statusCode, id).toBe(first.statusCode);
        const secret = /"(apiKey|access_token|secret)":/.test(first.body);
        if (!secret) expect(again.body, id).toBe(first.body);
      }
    }
  });
});
