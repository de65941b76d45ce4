import { useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate } from '@tanstack/react-router';
import { useSyncExternalStore } from 'react';
import { api } from './api';
import { onSessionChange, readSession, writeSession } from './session';

/** The pages a store has, in the order staff use them; a new feature adds its page here. */
const pages = [
  { to: '/customers', label: 'Customers' },
  { to: '/segments', label: 'Segments' },
  { to: '/imports', label: 'Imports' },
  { to: '/fields', label: 'Custom fields' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/settings', label: 'Settings' },
] as const;

export function useSession() {
  return useSyncExternalStore(onSessionChange, () => sessionStorage.getItem('clientele.session'));
}

export async function signOut() {
  const session = readSession();
  if (session.adminToken && session.sessionKeyId && session.storeId) {
    // The key the console made for this admin session goes with it.
    await api(`/v1/stores/${session.storeId}/api-keys/${session.sessionKeyId}`, {
      method: 'DELETE',
      as: 'admin',
    }).catch(() => undefined);
  }
  writeSession({});
}

export function Layout() {
  useSession();
  const session = readSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const signedIn = Boolean(session.apiKey);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Clientele</span>
        {signedIn && (
          <nav aria-label="Pages">
            {pages.map((p) => (
              <Link
                key={p.to}
                to={p.to}
                search={p.to === '/customers' ? { q: '' } : undefined}
                activeProps={{ 'aria-current': 'page', className: 'active' }}
              >
                {p.label}
              </Link>
            ))}
          </nav>
        )}
        <div className="who">
          {session.storeId && (
            <span title={session.storeId}>Store: {session.storeName ?? session.storeId}</span>
          )}
          {session.adminToken && signedIn && <Link to="/stores">Switch store</Link>}
          {(signedIn || session.adminToken) && (
            <button
              type="button"
              onClick={async () => {
                await signOut();
                queryClient.clear();
                await navigate({ to: '/' });
              }}
            >
              Sign out
            </button>
          )}
        </div>
      </header>
      <Outlet />
    </>
  );
}
