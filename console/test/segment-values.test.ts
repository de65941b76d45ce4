import { expect, it } from 'vitest';
import { consoleUnderTest } from './console-server.js';
import { signIn, unexpected } from './signed-in.js';

// A store keeps its customers' typed values only from its first segment or preview on
// (migration 0030). Here nothing is filled within a request (inRequestMs 0), and the
// builders fill 10 customers a chunk, so the first preview of a store of 45 is answered
// 503 values_preparing until they are done.
const under = consoleUnderTest({
  segmentBuilds: { chunkCustomers: 10, inRequestMs: 0, leaseMs: 400, idleMs: 20 },
});

it("says the store's values are being prepared, then shows the count once they are", async () => {
  const api = under.server.t.as(under.server.store);
  for (let i = 0; i < 45; i += 15) {
    await Promise.all(
      Array.from({ length: 15 }, async (_, k) => {
        const res = await api.upsert({
          email: `v${i + k}@example.com`,
          customFields: { score: (i + k) % 10 },
        });
        expect(res.statusCode, res.body).toBe(201);
      }),
    );
  }

  const page = await under.browser.page();
  await signIn(page, under.server);
  await page.getByRole('link', { name: 'Segments' }).click();
  await page.getByRole('button', { name: 'Add condition', exact: true }).click();
  await page.getByLabel('Field of condition 1').selectOption('customFields.score');
  await page.getByLabel('Operator of condition 1').selectOption('gte');
  await page.getByLabel('Value of condition 1').fill('5');
  await page.getByText("Preparing this store's custom-field values for segments").waitFor();
  // Asked again every second until the builders are done: 5, 6, 7, 8 and 9 of each ten.
  await page.getByText('20 customers match now').waitFor({ timeout: 15_000 });

  expect(unexpected(under.browser.errors, 503)).toEqual([]);
  await page.context().close();
});
