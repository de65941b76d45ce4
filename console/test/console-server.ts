import type { AddressInfo } from 'node:net';
import { ADMIN_TOKEN, startTestApp, type TestApp, type TestStore } from '../../test/helpers/app.js';

export { ADMIN_TOKEN };

/** The app listening on 127.0.0.1, as `npm start` serves it, with a store to sign in to. */
export interface ConsoleServer {
  t: TestApp;
  url: string;
  store: TestStore;
  close(): Promise<void>;
}

export async function startConsoleServer(): Promise<ConsoleServer> {
  const t = await startTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  const store = await t.createStore('Acme Boutique');
  return { t, url: `http://127.0.0.1:${port}`, store, close: () => t.close() };
}
