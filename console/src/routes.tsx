import {
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
  redirect,
} from '@tanstack/react-router';
import { Layout } from './layout';
import { CustomerPage } from './pages/customer';
import { CustomersPage } from './pages/customers';
import { FieldsPage } from './pages/fields';
import { SettingsPage } from './pages/settings';
import { SignInPage } from './pages/sign-in';
import { StoresPage } from './pages/stores';
import { WebhooksPage } from './pages/webhooks';
import { readSession } from './session';

const rootRoute = createRootRoute({ component: Layout });

/** Store pages need a store session; without one, sign in first. */
function needStore() {
  const session = readSession();
  if (session.storeId && session.apiKey) return;
  throw redirect({ to: session.adminToken ? '/stores' : '/' });
}

const signIn = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  beforeLoad: () => {
    if (readSession().apiKey) throw redirect({ to: '/customers', search: { q: '' } });
  },
  component: SignInPage,
});

const stores = createRoute({
  getParentRoute: () => rootRoute,
  path: '/stores',
  beforeLoad: () => {
    if (!readSession().adminToken) throw redirect({ to: '/' });
  },
  component: StoresPage,
});

const customers = createRoute({
  getParentRoute: () => rootRoute,
  path: '/customers',
  validateSearch: (search: Record<string, unknown>): { q: string; segment?: string } => ({
    q: typeof search.q === 'string' ? search.q : '',
    ...(typeof search.segment === 'string' && search.segment ? { segment: search.segment } : {}),
  }),
  beforeLoad: needStore,
  component: CustomersPage,
});

export const customerRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/customers/$customerId',
  beforeLoad: needStore,
  component: CustomerPage,
});

const fields = createRoute({
  getParentRoute: () => rootRoute,
  path: '/fields',
  beforeLoad: needStore,
  component: FieldsPage,
});

// Pages past the first are loaded when first opened: the first page's script stays small.
const segments = createRoute({
  getParentRoute: () => rootRoute,
  path: '/segments',
  beforeLoad: needStore,
  component: lazyRouteComponent(() => import('./pages/segments'), 'SegmentsPage'),
});

const imports = createRoute({
  getParentRoute: () => rootRoute,
  path: '/imports',
  beforeLoad: needStore,
  component: lazyRouteComponent(() => import('./pages/imports'), 'ImportsPage'),
});

const webhooks = createRoute({
  getParentRoute: () => rootRoute,
  path: '/webhooks',
  beforeLoad: needStore,
  component: WebhooksPage,
});

const settings = createRoute({
  getParentRoute: () => rootRoute,
  path: '/settings',
  beforeLoad: needStore,
  component: SettingsPage,
});

const routeTree = rootRoute.addChildren([
  signIn,
  stores,
  customers,
  customerRoute,
  segments,
  imports,
  fields,
  webhooks,
  settings,
]);

export const router = createRouter({
  routeTree,
  basepath: '/console',
  defaultNotFoundComponent: () => (
    <main id="main">
      <h1>Not found</h1>
      <p>The console has no page at this address.</p>
    </main>
  ),
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
