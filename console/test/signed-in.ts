import type { Page } from 'playwright-core';
import { ADMIN_TOKEN, type ConsoleServer } from './console-server.js';

/** Signs `page` in with the server's store key, through the sign-in form. */
export async function signIn(page: Page, server: ConsoleServer): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.getByLabel('Store id').fill(server.store.id);
  await page.getByLabel('API key', { exact: true }).fill(server.store.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Customers' }).waitFor();
}

/** Signs `page` in with the admin token, and opens the server's store from the picker. */
export async function signInAsAdmin(page: Page, server: ConsoleServer): Promise<void> {
  await page.goto(`${server.url}/console/`);
  await page.getByLabel('Admin token', { exact: true }).fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in as admin' }).click();
  await page.getByRole('button', { name: 'Open Acme Boutique' }).click();
  await page.getByRole('heading', { name: 'Customers' }).waitFor();
}

/** What the browser logged as errors, but for the refusals a test provoked on purpose. */
export function unexpected(errors: string[], ...statuses: number[]): string[] {
  return errors.filter((e) => !statuses.some((s) => e.includes(`status of ${s}`)));
}
