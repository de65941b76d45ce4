import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { PHONE } from './browser.js';
import { consoleUnderTest } from './console-server.js';
import { signIn, unexpected } from './signed-in.js';

const under = consoleUnderTest({ imports: { idleMs: 20 } });
beforeAll(() => {
  under.server.t.clientele.imports.startWorking();
});

const ROWS = 1000;
const BAD = new Map([
  [10, 'not-an-email,Ten,10'],
  [500, 'five@hundred@example.com,Five,500'],
  [999, 'row999@example.com,Nine,lots'],
]);

/** 1,000 customers, 3 of them refused: two emails that are none, a points cell not a number. */
function csv(): string {
  const lines = ['email,firstName,customFields.points'];
  for (let row = 1; row <= ROWS; row++) {
    lines.push(BAD.get(row) ?? `row${row}@example.com,Row ${row},${row}`);
  }
  return `${lines.join('\n')}\n`;
}

const open = async (size?: typeof PHONE) => {
  const page = await under.browser.page(size);
  await signIn(page, under.server);
  await page.getByRole('link', { name: 'Imports' }).click();
  await page.getByRole('heading', { name: 'Imports', level: 1 }).waitFor();
  return page;
};

const FILE = 'A CSV or NDJSON file: drop it here, or choose it';

describe('imports: a file, its progress, its refused rows', () => {
  it('imports a CSV of 1,000 rows, shows progress to the end and the 3 refused rows', async () => {
    const page = await open();
    await page.getByText('No import yet.').waitFor();
    const file = Buffer.from(csv());
    await page.getByLabel(FILE).setInputFiles({
      name: 'customers.csv',
      mimeType: 'text/csv',
      buffer: file,
    });
    await page.getByRole('button', { name: 'Start import' }).click();

    const uploaded = page.getByLabel('Upload');
    await expect
      .poll(() =>
        uploaded.evaluate((p) => [
          (p as HTMLProgressElement).value,
          (p as HTMLProgressElement).max,
        ]),
      )
      .toEqual([file.length, file.length]);
    await page.getByText(`100% of ${file.length.toLocaleString('en-US')} bytes sent`).waitFor();

    const job = page.getByRole('region', { name: /^Import of/ });
    await job.getByText('completed').waitFor({ timeout: 60_000 });
    const processing = job.getByLabel('Rows processed');
    expect(
      await processing.evaluate((p) => [
        (p as HTMLProgressElement).value,
        (p as HTMLProgressElement).max,
      ]),
    ).toEqual([ROWS, ROWS]);
    expect(await job.getByTestId('processed').textContent()).toMatch(/^1,000 of 1,000 rows/);
    const counts = await job.locator('dl').textContent();
    expect(counts).toBe('Created997Updated0Unchanged0Refused3');

    const refused = job.getByRole('region', { name: 'Refused rows' });
    await expect.poll(() => refused.getByRole('row').count()).toBe(4); // header + 3
    const rows = await refused.getByRole('row').allTextContents();
    expect(rows[1]).toContain('10');
    expect(rows[1]).toContain('not-an-email');
    expect(rows[2]).toContain('five@hundred@example.com');
    expect(rows[3]).toContain('customFields.points');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      refused.getByRole('button', { name: 'Download refused rows (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^imp_.*-refused-rows\.csv$/);
    const text = await readFile((await download.path()) ?? '', 'utf8');
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('row,line,code,path,message,rowText');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['10', '500', '999']);

    // The job is listed among past imports.
    const past = page.getByRole('region', { name: 'Past imports' });
    await expect.poll(() => past.getByRole('row').nth(1).textContent()).toContain('completed');
    const found = await under.server.t
      .as(under.server.store)
      .get('/customers?email=row1000@example.com');
    expect(found.statusCode).toBe(200);
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it("says in words why a file is refused, the API's errors by their field", async () => {
    const page = await open();
    await page.getByLabel(FILE).setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello'),
    });
    await page.getByRole('button', { name: 'Start import' }).click();
    await page.getByText('notes.txt is neither a .csv nor an .ndjson file.').waitFor();

    await page.getByLabel(FILE).setInputFiles({
      name: 'shoes.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('email,shoeSize\na@example.com,9\n'),
    });
    await page.getByRole('button', { name: 'Start import' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('/csv/header/shoeSize');
    expect(unexpected(under.browser.errors, 400)).toEqual([]);
    await page.context().close();
  });

  it('a dry run counts the rows and writes none, reached by keyboard on a phone', async () => {
    const page = await open(PHONE);
    const chooser = page.getByLabel(FILE);
    for (
      let i = 0;
      i < 20 && !(await chooser.evaluate((el) => el === document.activeElement));
      i++
    ) {
      await page.keyboard.press('Tab');
    }
    expect(await chooser.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await chooser.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none');
    await page.getByLabel(FILE).setInputFiles({
      name: 'one.ndjson',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from('{"email":"dry@example.com"}\n'),
    });
    await page.getByLabel('Dry run: check and count every row, write nothing').check();
    await page.getByRole('button', { name: 'Start import' }).click();
    const job = page.getByRole('region', { name: /^Import of/ });
    await job.getByText('completed').waitFor({ timeout: 30_000 });
    expect(await job.getByRole('heading').textContent()).toContain('dry run');
    expect(await job.locator('dl').textContent()).toBe('Created1Updated0Unchanged0Refused0');
    await job.getByText('No row was refused.').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    const dry = await under.server.t.as(under.server.store).get('/customers?email=dry@example.com');
    expect(dry.statusCode).toBe(404);
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  });

  it('cancels a running import, keeping the rows applied so far', async () => {
    const rows = 20_000;
    const long = Array.from({ length: rows }, (_, i) =>
      JSON.stringify({ email: `long${i}@example.com` }),
    ).join('\n');
    const page = await open();
    await page.getByLabel(FILE).setInputFiles({
      name: 'long.ndjson',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(long),
    });
    await page.getByRole('button', { name: 'Start import' }).click();
    const job = page.getByRole('region', { name: /^Import of/ });
    await job.getByRole('button', { name: 'Cancel the import' }).click();
    await job.getByText('cancelled').waitFor({ timeout: 30_000 });
    expect(await job.getByRole('button', { name: 'Cancel the import' }).count()).toBe(0);
    const shown = await job.getByTestId('processed').textContent();
    expect(shown).not.toMatch(/^20,000 of/);
    const past = page.getByRole('region', { name: 'Past imports' });
    await expect.poll(() => past.getByRole('row').nth(1).textContent()).toContain('cancelled');
    expect(under.browser.errors).toEqual([]);
    await page.context().close();
  }, 90_000);
});
