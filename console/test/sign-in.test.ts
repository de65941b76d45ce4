import { describe, expect, it } from 'vitest';
import { consoleUnderTest } from './console-server.js';
import { signInAsAdmin } from './signed-in.js';

const under = consoleUnderTest();

describe('the console is served by the Clientele process', () => {
  it('sends / to /console/, and serves the app for its own paths', async () => {
    const root = await fetch(`${under.server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const deep = await fetch(`${under.server.url}/console/customers/cust_x`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    const missing = await fetch(`${under.server.url}/console/assets/nothing.js`);
    expect(missing.status).toBe(404);
  });
});

describe('signing in', () => {
  it('with a wrong key says why, and with the right one opens the customers page', async () => {
    const page = await under.browser.page();
    await page.goto(`${under.server.url}/`);
    await page.getByLabel('Store id').fill(under.server.store.id);
    await page.getByLabel('API key', { exact: true }).fill('ck_not-a-key');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid or revoked');

    await page.getByLabel('API key', { exact: true }).fill(under.server.store.apiKey);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    expect(page.url()).toBe(`${under.server.url}/console/customers?q=`);
    // The key is kept for the tab's session, never in the address.
    expect(page.url()).not.toContain(under.server.store.apiKey);
    const kept = await page.evaluate(() => sessionStorage.getItem('clientele.session'));
    expect(kept).toContain(under.server.store.apiKey);
    await page.getByText('This store has no customers yet').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('clientele.session'))).toBeNull();
    // The refused key was a 401 the under.browser logged; nothing else went wrong.
    expect(under.browser.errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    await page.context().close();
  });

  it('with the admin token picks a store, through a session key revoked on sign-out', async () => {
    const page = await under.browser.page();
    await signInAsAdmin(page, under.server);
    await page.getByText('Store: Acme Boutique').waitFor();

    const keys = async () =>
      (await under.server.t.admin('GET', `/v1/stores/${under.server.store.id}/api-keys`)).json()
        .data as {
        name: string | null;
        revokedAt: string | null;
      }[];
    const session = (await keys()).find((k) => k.name === 'console session');
    expect(session?.revokedAt).toBeNull();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const after = (await keys()).find((k) => k.name === 'console session');
    expect(after?.revokedAt).not.toBeNull();
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('sends a visitor with no session from a store page to the sign-in page', async () => {
    const page = await under.browser.page();
    await page.goto(`${under.server.url}/console/webhooks`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });
});
