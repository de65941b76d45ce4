import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../../test/helpers/receiver.js';
import { consoleUnderTest } from './console-server.js';
import { signIn, signInAsAdmin, unexpected } from './signed-in.js';

/** Custom fields, webhooks and settings, each page's main task. */
// Webhooks to this machine over http, so that a receiver here can answer the ping.
const under = consoleUnderTest({ webhooks: { allowPrivate: true, allowHttp: true } });
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

describe('custom fields', () => {
  it("lists the store's declarations with their types, and a STRING field's options", async () => {
    const api = under.server.t.as(under.server.store);
    await api.upsert({ email: 'a@example.com', customFields: { tier: 'gold', points: 10 } });
    await api.upsert({ email: 'b@example.com', customFields: { tier: 'silver', vip: false } });
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByRole('link', { name: 'Custom fields' }).click();
    const tier = page.getByRole('row', { name: /^tier/ });
    await tier.waitFor();
    expect(await tier.textContent()).toContain('STRING');
    expect(await page.getByRole('row', { name: /^points/ }).textContent()).toContain('NUMBER');
    expect(await page.getByRole('row', { name: /^vip/ }).textContent()).toContain('BOOLEAN');
    await tier.getByRole('button', { name: '2 options' }).click();
    const options = page.getByRole('region', { name: 'Options of tier' });
    await options.getByText('silver').waitFor();
    expect(await options.getByRole('listitem').allTextContents()).toEqual(['gold', 'silver']);
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });
});

describe('webhooks', () => {
  it('creates an endpoint and shows its secret once, then pings it', async () => {
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByText('No endpoint yet').waitFor();

    // A refusal is shown beside the field it names.
    await page.getByLabel('URL').fill('ftp://127.0.0.1/hooks');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const urlError = page.locator('#wh-url-error');
    await urlError.waitFor();
    expect(await urlError.textContent()).toBe('must be an http(s) URL');

    await page.getByLabel('URL').fill(receiver.url);
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = page.getByTestId('webhook-secret');
    await secret.waitFor();
    expect(await secret.textContent()).toMatch(/^whsec_/);
    const endpoint = page.getByRole('article', {
      name: `Endpoint ${receiver.url}`,
    });
    await endpoint.waitFor();
    await page.getByRole('button', { name: 'I have kept it' }).click();
    expect(await secret.count()).toBe(0);
    // Reloading shows the endpoint, never its secret again.
    await page.reload();
    await endpoint.waitFor();
    expect(await page.getByText('whsec_').count()).toBe(0);

    await endpoint.getByRole('button', { name: 'Send a test ping' }).click();
    await endpoint.getByText(/Ping answered 200 in \d+ ms/).waitFor();
    await receiver.until((r) => r.some((x) => x.body.includes('webhook.ping')));
    await endpoint.getByRole('button', { name: 'Delivery log' }).click();
    await endpoint.getByRole('cell', { name: 'webhook.ping' }).waitFor();
    await endpoint.getByRole('button', { name: 'Disable' }).click();
    await endpoint.getByText('Disabled').waitFor();
    expect(unexpected(under.browser.errors, 400)).toEqual([]);
    await page.context().close();
  });
});

describe('settings', () => {
  it('tells a store-key session that settings take the admin token', async () => {
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByText('changed with the admin token').waitFor();
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('lets the admin set the conflict policy and an alias, and shows a refusal by its field', async () => {
    const other = await under.server.t.createStore('Other');
    await under.server.t.admin('PATCH', `/v1/stores/${other.id}`, {
      settings: { aliases: { redo: 'taken-alias' } },
    });
    const page = await under.browser.page();
    await signInAsAdmin(page, under.server);
    await page.getByRole('link', { name: 'Settings' }).click();

    await page.getByLabel('Merge the customers').check();
    await page.getByLabel('redo').fill('taken-alias');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const aliasError = page.locator('#alias-redo-error');
    await aliasError.waitFor();
    expect(await aliasError.textContent()).toBeTruthy();

    await page.getByLabel('redo').fill('acme-redo');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    const store = (await under.server.t.admin('GET', `/v1/stores/${under.server.store.id}`)).json();
    expect(store.settings).toMatchObject({
      identityConflict: 'merge',
      aliases: { redo: 'acme-redo' },
    });

    // A new key is shown once; the list has it by name.
    await page.getByLabel('Name of a new key').fill('CI deploy');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('The new key, shown this once').waitFor();
    await page.getByRole('row', { name: /CI deploy/ }).waitFor();
    expect(unexpected(under.browser.errors, 409)).toEqual([]);
    await page.context().close();
  });
});
