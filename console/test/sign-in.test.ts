import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleBrowser, launchBrowser } from './browser.js';
import { ADMIN_TOKEN, type ConsoleServer, startConsoleServer } from './console-server.js';

let server: ConsoleServer;
let browser: ConsoleBrowser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the console is served by the Clientele process', () => {
  it('sends / to /console/, and serves the app for its own paths', async () => {
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const deep = await fetch(`${server.url}/console/customers/cust_x`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    const missing = await fetch(`${server.url}/console/assets/nothing.js`);
    expect(missing.status).toBe(404);
  });
});

describe('signing in', () => {
  it('with a wrong key says why, and with the right one opens the customers page', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}/`);
    await page.getByLabel('Store id').fill(server.store.id);
    await page.getByLabel('API key', { exact: true }).fill('ck_not-a-key');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid or revoked');

    await page.getByLabel('API key', { exact: true }).fill(server.store.apiKey);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    expect(page.url()).toBe(`${server.url}/console/customers?q=`);
    // The key is kept for the tab's session, never in the address.
    expect(page.url()).not.toContain(server.store.apiKey);
    const kept = await page.evaluate(() => sessionStorage.getItem('clientele.session'));
    expect(kept).toContain(server.store.apiKey);
    await page.getByText('This store has no customers yet').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('clientele.session'))).toBeNull();
    // The refused key was a 401 the browser logged; nothing else went wrong.
    expect(browser.errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    browser.errors.length = 0;
    await page.context().close();
  });

  it('with the admin token picks a store, through a session key revoked on sign-out', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}/console/`);
    await page.getByLabel('Admin token', { exact: true }).fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in as admin' }).click();
    await page.getByRole('button', { name: 'Open Acme Boutique' }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    await page.getByText('Store: Acme Boutique').waitFor();

    const keys = async () =>
      (await server.t.admin('GET', `/v1/stores/${server.store.id}/api-keys`)).json().data as {
        name: string | null;
        revokedAt: string | null;
      }[];
    const session = (await keys()).find((k) => k.name === 'console session');
    expect(session?.revokedAt).toBeNull();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const after = (await keys()).find((k) => k.name === 'console session');
    expect(after?.revokedAt).not.toBeNull();
    expect(browser.errors).toEqual([]);
    await page.context().close();
  });

  it('sends a visitor with no session from a store page to the sign-in page', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}/console/webhooks`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(browser.errors).toEqual([]);
    await page.context().close();
  });
});
