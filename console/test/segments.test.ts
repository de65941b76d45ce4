import { describe, expect, it } from 'vitest';
import { PHONE } from './browser.js';
import { consoleUnderTest } from './console-server.js';
import { signIn, unexpected } from './signed-in.js';

const under = consoleUnderTest();

const upsert = async (body: object) => {
  const res = await under.server.t.as(under.server.store).upsert(body);
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json().customer as { id: string };
};

// Counts are read again every 3 s while the page is open.
const LIVE = { timeout: 15_000 };

describe('segments: build one, watch its count, list its members', () => {
  it('builds a segment whose count follows customers upserted through the API', async () => {
    const first = await upsert({
      email: 'ann@example.com',
      firstName: 'Ann',
      lastName: 'Gold',
      customFields: { tier: 'gold', points: 1500 },
    });
    await upsert({ email: 'sam@example.com', customFields: { tier: 'silver', points: 2000 } });
    await upsert({ email: 'bo@example.com', customFields: { tier: 'gold', points: 10 } });

    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByText('No segment yet').waitFor();
    await page.getByText('Add a condition to see how many customers match.').waitFor();

    await page.getByLabel('Name', { exact: true }).fill('Big gold');
    await page.getByRole('button', { name: 'Add condition', exact: true }).click();
    await page.getByLabel('Field of condition 1').selectOption('customFields.tier');
    // Operators by the field's type: a STRING's, then a NUMBER's.
    const ops = page.getByLabel('Operator of condition 1').locator('option');
    expect(await ops.allTextContents()).toContain('starts with');
    // STRING values offered from the options the store tracks.
    const value = page.getByLabel('Value of condition 1');
    const list = await value.getAttribute('list');
    await expect
      .poll(() =>
        page
          .locator(`datalist[id="${list}"] option`)
          .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      )
      .toEqual(['gold', 'silver']);
    await value.fill('gold');
    await page.getByText('2 customers match now').waitFor();

    await page.getByRole('button', { name: 'Add condition', exact: true }).click();
    await page.getByLabel('Field of condition 2').selectOption('customFields.points');
    const numberOps = page.getByLabel('Operator of condition 2').locator('option');
    expect(await numberOps.allTextContents()).toContain('is greater than');
    expect(await numberOps.allTextContents()).not.toContain('starts with');
    await page.getByLabel('Operator of condition 2').selectOption('gt');
    await page.getByLabel('Value of condition 2').fill('1000');
    await page.getByText('1 customer matches now').waitFor();

    // A matching customer upserted through the API moves the count.
    await upsert({ email: 'cy@example.com', customFields: { tier: 'gold', points: 5000 } });
    await page.getByText('2 customers match now').waitFor(LIVE);

    await page.getByRole('button', { name: 'Save segment' }).click();
    const row = page.getByRole('row', { name: /^Big gold/ });
    await row.waitFor();
    // Built within the request, or (a slow machine) in the background: the page reads the
    // segments again every 3 s, and shows it ready with its count.
    await expect.poll(() => row.textContent(), LIVE).toContain('ready');
    expect(await row.getByRole('cell').first().textContent()).toBe('2');

    await upsert({ email: 'di@example.com', customFields: { tier: 'gold', points: 9000 } });
    await expect.poll(() => row.getByRole('cell').first().textContent(), LIVE).toBe('3');
    // A member that stops matching leaves.
    await upsert({ email: 'cy@example.com', customFields: { points: 1 } });
    await expect.poll(() => row.getByRole('cell').first().textContent(), LIVE).toBe('2');

    // Its members: the customers page, filtered by the segment.
    await row.getByRole('link', { name: 'Members of Big gold' }).click();
    await page.getByRole('link', { name: 'Ann Gold' }).waitFor();
    expect(page.url()).toContain('segment=seg_');
    expect(await page.getByLabel('Segment').inputValue()).toMatch(/^seg_/);
    expect(await page.getByLabel('Search by email, phone, name or external id').isDisabled()).toBe(
      true,
    );
    await expect.poll(() => page.getByRole('row').count()).toBe(3); // header + 2
    await page.getByLabel('Segment').selectOption('');
    await expect.poll(() => page.getByRole('row').count()).toBe(6); // header + all 5

    // A customer's page lists its segments.
    await page.goto(`${under.server.url}/console/customers/${first.id}`);
    const segments = page.getByRole('region', { name: 'Segments' });
    await segments.getByRole('link', { name: 'Big gold' }).waitFor();
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('builds an or group, edits and deletes a segment', async () => {
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Ann or Sam');
    await page.getByRole('button', { name: 'Add group', exact: true }).click();
    await page.getByLabel('Customers matching (group 1)').selectOption('or');
    await page.getByLabel('Field of condition 1.1').selectOption('email');
    await page.getByLabel('Value of condition 1.1').fill('ann@example.com');
    await page.getByRole('button', { name: 'Add condition to group 1' }).click();
    await page.getByLabel('Field of condition 1.2').selectOption('email');
    await page.getByLabel('Operator of condition 1.2').selectOption('starts_with');
    await page.getByLabel('Value of condition 1.2').fill('sam@');
    await page.getByText('2 customers match now').waitFor();
    await page.getByRole('button', { name: 'Save segment' }).click();
    const row = page.getByRole('row', { name: /^Ann or Sam/ });
    await row.waitFor();

    await row.getByRole('button', { name: 'Edit Ann or Sam' }).click();
    await page.getByRole('heading', { name: 'Edit Ann or Sam' }).waitFor();
    expect(await page.getByLabel('Value of condition 1.2').inputValue()).toBe('sam@');
    await page.getByRole('button', { name: 'Remove condition 1.2' }).click();
    await page.getByText('1 customer matches now').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Only Ann');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const renamed = page.getByRole('row', { name: /^Only Ann/ });
    await renamed.waitFor();
    expect(await renamed.getByRole('cell').first().textContent()).toBe('1');

    await renamed.getByRole('button', { name: 'Delete Only Ann', exact: true }).click();
    await renamed.getByRole('button', { name: 'Delete Only Ann for good' }).click();
    await expect.poll(() => renamed.count()).toBe(0);
    const left = await under.server.t.as(under.server.store).get('/segments');
    expect(left.json().data.map((s: { name: string }) => s.name)).toEqual(['Big gold']);
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it("shows the API's refusal beside the condition and the name it names", async () => {
    const page = await under.browser.page();
    await signIn(page, under.server);
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('button', { name: 'Add condition', exact: true }).click();
    await page.getByLabel('Field of condition 1').selectOption('customFields.points');
    await page.getByLabel('Value of condition 1').fill('lots');
    const valueError = page.locator('.condition .field-error');
    await valueError.waitFor();
    expect(await valueError.textContent()).toBe('must be a finite number');
    await page.getByLabel('Value of condition 1').fill('12');
    await page.getByText(/customers? match(es)? now/).waitFor();
    await page.getByRole('button', { name: 'Save segment' }).click();
    const nameError = page.locator('#segment-name-error');
    await nameError.waitFor();
    expect(await nameError.textContent()).toBe('must NOT have fewer than 1 characters');
    expect(unexpected(under.browser.errors, 422, 400)).toEqual([]);
    await page.context().close();
  });

  it('is reachable by keyboard, and fits a phone', async () => {
    const page = await under.browser.page(PHONE);
    await signIn(page, under.server);
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('row', { name: /^Big gold/ }).waitFor();
    const add = page.getByRole('button', { name: 'Add condition', exact: true });
    for (let i = 0; i < 30 && !(await add.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    expect(await add.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await add.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    // The new condition sits just before the button that added it.
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
      'Remove condition 1',
    );
    await page.getByLabel('Value of condition 1').fill('ann');
    await page.getByText(/customers? match(es)? now/).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });
});
