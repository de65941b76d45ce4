import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Debian's chromium, driven by playwright-core: one browser per test file, a fresh
 * context (so a fresh sessionStorage) per test. Every console message of level error and
 * every uncaught page error is kept, for the test to assert there were none. Playwright
 * gives each launch a fresh user data directory of its own (and deletes it on close).
 */
export interface ConsoleBrowser {
  browser: Browser;
  /** A new page at the console's size of choice, recording its errors. */
  page(size?: { width: number; height: number }): Promise<Page>;
  /** The errors the pages logged since the last one was opened. */
  errors: string[];
  close(): Promise<void>;
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Debian's chromium, headless, with nothing reaching past this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function launchBrowser(): Promise<ConsoleBrowser> {
  const browser = await launchChromium();
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];
  return {
    browser,
    errors,
    async page(size = DESKTOP) {
      errors.length = 0;
      const context = await browser.newContext({ viewport: size });
      contexts.push(context);
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
      return page;
    },
    async close() {
      await browser.close();
    },
  };
}
