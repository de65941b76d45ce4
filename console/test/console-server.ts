import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { ClienteleOptions } from '../../src/core/clientele.js';
import { ADMIN_TOKEN, startTestApp, type TestApp, type TestStore } from '../../test/helpers/app.js';

import { type ConsoleBrowser, launchBrowser } from './browser.js';

export { ADMIN_TOKEN };

/** The app listening on 127.0.0.1, as `npm start` serves it, with a store to sign in to. */
export interface ConsoleServer {
  t: TestApp;
  url: string;
  store: TestStore;
  close(): Promise<void>;
}

export async function startConsoleServer(
  options?: Partial<ClienteleOptions>,
): Promise<ConsoleServer> {
  const t = await startTestApp(undefined, options);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  const store = await t.createStore('Acme Boutique');
  return { t, url: `http://127.0.0.1:${port}`, store, close: () => t.close() };
}

/**
 * A test file's console: the server and one browser, started before its tests and
 * stopped after them (a browser per file, reused by its tests: CI time).
 */
export function consoleUnderTest(options?: Partial<ClienteleOptions>): {
  server: ConsoleServer;
  browser: ConsoleBrowser;
} {
  const under = {} as { server: ConsoleServer; browser: ConsoleBrowser };
  beforeAll(async () => {
    [under.server, under.browser] = await Promise.all([
      startConsoleServer(options),
      launchBrowser(),
    ]);
  });
  afterAll(async () => {
    await under.browser?.close();
    await under.server?.close();
  });
  return under;
}
