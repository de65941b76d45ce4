import { describe, expect, it } from 'vitest';
import { PHONE } from './browser.js';
import { consoleUnderTest } from './console-server.js';
import { signIn, unexpected } from './signed-in.js';

const under = consoleUnderTest();

const upsert = async (body: object) => {
  const res = await under.server.t.as(under.server.store).upsert(body);
  expect(res.statusCode).toBeLessThan(300);
  return res.json().customer as { id: string };
};

describe('customers: find one by typing, open it, see its history', () => {
  it('finds a customer upserted through the API by part of its email', async () => {
    const jane = await upsert({
      email: 'jane.doe@example.com',
      firstName: 'Jane',
      lastName: 'Doe',
      phoneNumber: '+12025550143',
      customFields: { tier: 'gold', points: 1250, vip: true },
      location: { city: 'Boston', country: 'US' },
      channels: [{ type: 'email', value: 'jane.doe@example.com', subscribed: true }],
    });
    await upsert({ email: 'jane.doe@example.com', customFields: { tier: 'platinum' } });
    await upsert({ email: 'someone.else@example.org', firstName: 'Someone' });

    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByLabel('Search by email, phone, name or external id').fill('jane.d');
    const row = page.getByRole('link', { name: 'Jane Doe' });
    await row.waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(2); // header + Jane
    expect(page.url()).toContain('q=jane.d');

    await row.click();
    await page.getByRole('heading', { name: 'Jane Doe', level: 1 }).waitFor();
    expect(page.url()).toBe(`${under.server.url}/console/customers/${jane.id}`);
    const profile = page.getByRole('region', { name: 'Profile' });
    await expect.poll(() => profile.textContent()).toContain('jane.doe@example.com');
    const fields = page.getByRole('region', { name: 'Custom fields' });
    await expect.poll(() => fields.textContent()).toContain('platinum');
    expect(await fields.textContent()).toContain('NUMBER');
    expect(await page.getByRole('region', { name: 'Location' }).textContent()).toContain('Boston');
    expect(
      await page.getByRole('region', { name: 'Phone numbers and identifiers' }).textContent(),
    ).toContain('+12025550143');

    const history = page.getByRole('region', { name: 'History' });
    await history.getByText('updated').waitFor();
    const text = await history.textContent();
    expect(text).toContain('version 1 → 2');
    expect(text).toContain('by the native API');
    const change = history.getByRole('row', { name: /customFields\.tier/ }).first();
    expect(await change.textContent()).toBe('customFields.tiergoldplatinum');
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('merges a customer into this one by its id, lists the merge, and undoes it', async () => {
    const target = await upsert({ email: 'merge.target@example.com', firstName: 'Mira' });
    const source = await upsert({ email: 'merge.source@example.com', lastName: 'Sourcewell' });
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.goto(`${under.server.url}/console/customers/${target.id}`);
    await page.getByRole('heading', { name: 'Mira', level: 1 }).waitFor();
    await page.getByLabel('Customer ids to merge into this customer').fill(source.id);
    await page.getByRole('button', { name: 'Merge into this customer' }).click();
    await page.getByRole('heading', { name: 'Mira Sourcewell', level: 1 }).waitFor();
    // The source's email, which the target's own replaced, is listed: it finds this customer.
    const identifiers = page.getByRole('region', { name: 'Phone numbers and identifiers' });
    await expect
      .poll(() => identifiers.textContent())
      .toContain('merged email merge.source@example.com');
    const merges = page.getByRole('region', { name: 'Merges' });
    await expect.poll(() => merges.textContent()).toContain(source.id);
    await merges.getByRole('button', { name: /^Undo mrg_/ }).click();
    await page.getByRole('heading', { name: 'Mira', level: 1 }).waitFor();
    await expect.poll(() => merges.textContent()).toContain('undone');
    await expect.poll(() => identifiers.textContent()).not.toContain('merge.source@example.com');
    const back = await under.server.t.as(under.server.store).get(`/customers/${source.id}`);
    expect(back.json()).toMatchObject({ id: source.id, lastName: 'Sourcewell' });
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('finds by phone digits and says so in words when nothing matches', async () => {
    const page = await under.browser.page();
    await signIn(page, under.server);
    const box = page.getByLabel('Search by email, phone, name or external id');
    await box.fill('1202555');
    await page.getByRole('link', { name: 'Jane Doe' }).waitFor();
    await box.fill('zzz-nobody');
    await page
      .getByText("No customer's email, phone number, name or external id starts with")
      .waitFor();
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it("shows the API's refusal next to the search box", async () => {
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByLabel('Search by email, phone, name or external id').fill('x'.repeat(256));
    const error = page.locator('#q-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('must be at most 255 characters');
    expect(await page.getByRole('alert').textContent()).toContain('/query/q');
    expect(unexpected(under.browser.errors, 400)).toEqual([]);
    await page.context().close();
  });

  it('is reachable by keyboard, and fits a phone', async () => {
    const page = await under.browser.page(PHONE);
    await signIn(page, under.server);
    const search = page.getByLabel('Search by email, phone, name or external id');
    for (
      let i = 0;
      i < 15 && !(await search.evaluate((el) => el === document.activeElement));
      i++
    ) {
      await page.keyboard.press('Tab');
    }
    expect(await search.evaluate((el) => el === document.activeElement)).toBe(true);
    // Focus is visible: an outline is drawn around the focused control.
    expect(await search.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none');
    await page.keyboard.type('jane');
    await page.getByRole('link', { name: 'Jane Doe' }).waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(2); // header + Jane
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('segment');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Jane Doe');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Jane Doe', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('downloads everything held about a customer as one JSON file', async () => {
    const kept = await upsert({
      email: 'export.me@example.com',
      firstName: 'Export',
      customFields: { tier: 'gold' },
    });
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.goto(`${under.server.url}/console/customers/${kept.id}`);
    const button = page.getByRole('button', { name: 'Download (JSON)' });
    await button.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    expect(download.suggestedFilename()).toBe(`${kept.id}-export.json`);
    const { readFile } = await import('node:fs/promises');
    const file = JSON.parse(await readFile((await download.path()) as string, 'utf8'));
    expect(file).toMatchObject({
      format: 'clientele.customer-export/1',
      customer: { id: kept.id, email: 'export.me@example.com', firstName: 'Export' },
    });
    expect(file.history.length).toBeGreaterThan(0);
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('erases a customer once its email is typed to confirm', async () => {
    const gone = await upsert({
      email: 'erase.me@example.com',
      firstName: 'Erase',
      lastName: 'Me',
    });
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.goto(`${under.server.url}/console/customers/${gone.id}`);
    const erase = page.getByRole('button', { name: 'Erase', exact: true });
    await erase.waitFor();
    expect(await erase.isDisabled()).toBe(true);
    await page.getByLabel('Confirm by typing the email').fill('erase.me@example.co');
    expect(await erase.isDisabled()).toBe(true);
    await page.getByLabel('Confirm by typing the email').fill('erase.me@example.com');
    await erase.click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    const res = await under.server.t.as(under.server.store).get(`/customers/${gone.id}`);
    expect(res.statusCode).toBe(404);
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });
});
