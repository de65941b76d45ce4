/**
 * `npm run screenshots`: each console page, at 1280×800 (and the customers and customer
 * pages at 390×844 too), into docs/console/*.png. Runs the app on an in-memory PGlite
 * with a few customers written through the API, and drives Debian's chromium.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../console/test/browser.js';
import { Clientele } from '../src/core/clientele.js';
import { buildApp } from '../src/http/app.js';

const out = join(import.meta.dirname, '..', 'docs', 'console');
const ADMIN = 'screenshot-admin-token-0123';

const clientele = await Clientele.open({
  dataDir: 'memory://',
  migrate: true,
  // A throwaway key for this in-memory run's webhook secrets.
  secretKey: 'screenshots-only-secret-key-0123456789',
  webhooks: { allowPrivate: true, allowHttp: true },
});
const app = await buildApp({ clientele, adminToken: ADMIN });
clientele.imports.startWorking();
await app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const store = await clientele.stores.create('Acme Boutique');

async function call(method: string, path: string, body?: unknown, token = store.apiKey) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<{ customer: { id: string } }>;
}

const people = [
  ['Jane', 'Doe', 'jane.doe@example.com', '+12025550143', 'gold'],
  ['Janet', 'Moss', 'janet.moss@example.org', '+447911123456', 'silver'],
  ['Jan', 'Kowalski', 'jan.k@example.pl', '+48501234567', 'bronze'],
  ['Amara', 'Okafor', 'amara@example.ng', '+2348031234567', 'gold'],
  ['Luis', 'García', 'luis.garcia@example.es', '+34612345678', 'silver'],
  ['Mei', 'Chen', 'mei.chen@example.cn', '+8613812345678', 'platinum'],
] as const;
const customers = [];
for (const [firstName, lastName, email, phoneNumber, tier] of people) {
  customers.push(
    await call('POST', `/v1/stores/${store.id}/customers`, {
      email,
      firstName,
      lastName,
      phoneNumber,
      externalId: `shop-${email.split('@')[0]}`,
      location: { city: 'Boston', country: 'US' },
      customFields: { tier, points: 1250, vip: tier === 'gold', joined: '2025-03-01T10:00:00Z' },
      channels: [{ type: 'email', value: email, primary: true, subscribed: true }],
      loyalty: { status: 'loyalty', enrollments: [{ programId: 7, tierNumber: 2, points: 1250 }] },
    }),
  );
}
const jane = customers[0]?.customer.id ?? '';
await call('POST', `/v1/stores/${store.id}/customers`, {
  id: jane,
  customFields: { tier: 'platinum', points: 1900 },
  location: { city: 'Cambridge' },
});
await call('POST', `/v1/stores/${store.id}/webhook-endpoints`, {
  url: 'http://127.0.0.1:9/hooks/crm',
  events: ['customer.created', 'customer.updated'],
  description: 'CRM sync',
});

mkdirSync(out, { recursive: true });
const browser = await launchChromium();
try {
  const shoot = async (page: Page, name: string) => {
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: false });
    console.log(`docs/console/${name}.png`);
  };
  for (const [size, suffix] of [
    [{ width: 1280, height: 800 }, ''],
    [{ width: 390, height: 844 }, '-phone'],
  ] as const) {
    const page = await (await browser.newContext({ viewport: size })).newPage();
    await page.goto(`${url}/console/`);
    if (!suffix) await shoot(page, 'sign-in');
    await page.getByLabel('Store id').fill(store.id);
    await page.getByLabel('API key', { exact: true }).fill(store.apiKey);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Search by email, phone, name or external id').fill('jan');
    await page.getByRole('link', { name: 'Janet Moss' }).waitFor();
    await shoot(page, `customers${suffix}`);
    await page.getByRole('link', { name: 'Jane Doe' }).click();
    await page.getByRole('region', { name: 'History' }).getByText('updated').waitFor();
    await shoot(page, `customer${suffix}`);
    if (suffix) continue;
    await page.getByRole('region', { name: 'History' }).scrollIntoViewIfNeeded();
    await shoot(page, 'customer-history');
    await page.getByRole('link', { name: 'Custom fields' }).click();
    await page.getByRole('button', { name: /4 options/ }).click();
    await page.getByText('Options of tier').waitFor();
    await shoot(page, 'custom-fields');
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Gold in Boston');
    await page.getByRole('button', { name: 'Add condition', exact: true }).click();
    await page.getByLabel('Field of condition 1').selectOption('customFields.tier');
    await page.getByLabel('Value of condition 1').fill('gold');
    await page.getByRole('button', { name: 'Add condition', exact: true }).click();
    await page.getByLabel('Field of condition 2').selectOption('location.city');
    await page.getByLabel('Value of condition 2').fill('Boston');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByRole('row', { name: /^Gold in Boston/ }).waitFor();
    await page.getByRole('button', { name: 'Add group', exact: true }).click();
    await page.getByLabel('Customers matching (group 1)').selectOption('or');
    await page.getByLabel('Field of condition 1.1').selectOption('customFields.points');
    await page.getByLabel('Operator of condition 1.1').selectOption('gt');
    await page.getByLabel('Value of condition 1.1').fill('1000');
    await page.getByText(/customers? match(es)? now/).waitFor();
    await shoot(page, 'segments');
    await page.getByRole('link', { name: 'Imports' }).click();
    const rows = ['email,firstName,customFields.points'];
    for (let i = 1; i <= 200; i++)
      rows.push(i % 70 === 0 ? `bad-${i},Row,${i}` : `row${i}@example.com,Row ${i},${i}`);
    await page.getByLabel('A CSV or NDJSON file: drop it here, or choose it').setInputFiles({
      name: 'customers.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${rows.join('\n')}\n`),
    });
    await page.getByRole('button', { name: 'Start import' }).click();
    await page.getByRole('region', { name: 'Refused rows' }).getByRole('cell').first().waitFor();
    await shoot(page, 'imports');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('URL').fill('http://127.0.0.1:9/hooks/warehouse');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await page.getByTestId('webhook-secret').waitFor();
    await shoot(page, 'webhooks');
  }
  const admin = await (
    await browser.newContext({ viewport: { width: 1280, height: 800 } })
  ).newPage();
  await admin.goto(`${url}/console/`);
  await admin.getByLabel('Admin token', { exact: true }).fill(ADMIN);
  await admin.getByRole('button', { name: 'Sign in as admin' }).click();
  await admin.getByRole('button', { name: 'Open Acme Boutique' }).waitFor();
  await shoot(admin, 'stores');
  await admin.getByRole('button', { name: 'Open Acme Boutique' }).click();
  await admin.getByRole('link', { name: 'Settings' }).click();
  await admin.getByRole('button', { name: 'Save settings' }).waitFor();
  await shoot(admin, 'settings');
} finally {
  await browser.close();
  await app.close();
  await clientele.close();
}
