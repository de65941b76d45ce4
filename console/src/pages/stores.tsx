import { useInfiniteQuery } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { api } from '../api';
import { readSession, writeSession } from '../session';
import type { Page, Store } from '../types';
import { Empty, Failure, Loading, when } from '../ui';

/**
 * The admin's store picker. Opening a store makes a key for it named "console session"
 * (revoked on sign-out), so that every page calls the store API as any client would,
 * and the history says which session wrote what.
 */
export function StoresPage() {
  const navigate = useNavigate();
  const [openError, setOpenError] = useState<unknown>();
  const stores = useInfiniteQuery({
    queryKey: ['stores'],
    queryFn: ({ pageParam }) =>
      api<Page<Store>>(
        `/v1/stores?limit=50${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
        { as: 'admin' },
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

  async function open(store: Store) {
    setOpenError(undefined);
    const session = readSession();
    try {
      if (session.sessionKeyId && session.storeId) {
        await api(`/v1/stores/${session.storeId}/api-keys/${session.sessionKeyId}`, {
          method: 'DELETE',
          as: 'admin',
        }).catch(() => undefined);
      }
      const key = await api<{ id: string; apiKey: string }>(`/v1/stores/${store.id}/api-keys`, {
        method: 'POST',
        body: { name: 'console session' },
        as: 'admin',
      });
      writeSession({
        adminToken: session.adminToken,
        storeId: store.id,
        storeName: store.name,
        apiKey: key.apiKey,
        sessionKeyId: key.id,
      });
      await navigate({ to: '/customers', search: { q: '' } });
    } catch (error) {
      setOpenError(error);
    }
  }

  const all = stores.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <main id="main">
      <h1>Pick a store</h1>
      <Failure error={openError ?? stores.error} />
      {stores.isPending && <Loading what="stores" />}
      {stores.isSuccess && all.length === 0 && <Empty>There are no stores yet.</Empty>}
      <ul className="list">
        {all.map((s) => (
          <li key={s.id}>
            <button type="button" onClick={() => open(s)}>
              Open {s.name}
            </button>{' '}
            <code>{s.id}</code> <span className="muted">created {when(s.createdAt)}</span>
          </li>
        ))}
      </ul>
      {stores.hasNextPage && (
        <button type="button" onClick={() => stores.fetchNextPage()}>
          More stores
        </button>
      )}
    </main>
  );
}
