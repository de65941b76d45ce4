import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api } from '../api';
import { readSession } from '../session';
import type { ApiKey, Page, Store } from '../types';
import { Empty, Failure, FieldErrors, Loading, Table, when } from '../ui';

const PLATFORMS = ['redo', 'yotpo', 'capillary', 'cheqpay', 'voucherify'] as const;

/** A store's settings and keys: the admin API's, so an admin session's alone. */
export function SettingsPage() {
  const session = readSession();
  if (!session.adminToken) {
    return (
      <main id="main">
        <h1>Settings</h1>
        <p>
          A store's settings and API keys are changed with the admin token: sign out, then sign in
          with <code>CLIENTELE_ADMIN_TOKEN</code> and pick this store.
        </p>
      </main>
    );
  }
  return (
    <main id="main">
      <h1>Settings</h1>
      <StoreSettings storeId={session.storeId ?? ''} />
      <ApiKeys storeId={session.storeId ?? ''} />
    </main>
  );
}

function StoreSettings({ storeId }: { storeId: string }) {
  const queryClient = useQueryClient();
  const store = useQuery({
    queryKey: ['store', storeId],
    queryFn: () => api<Store>(`/v1/stores/${storeId}`, { as: 'admin' }),
  });
  const save = useMutation({
    mutationFn: (settings: Record<string, unknown>) =>
      api<Store>(`/v1/stores/${storeId}`, { method: 'PATCH', body: { settings }, as: 'admin' }),
    onSuccess: (saved) => queryClient.setQueryData(['store', storeId], saved),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const aliases: Record<string, string | null> = {};
    const current = store.data?.settings.aliases ?? {};
    for (const p of PLATFORMS) {
      const value = String(form.get(`alias-${p}`) ?? '').trim();
      if (value) aliases[p] = value;
      else if (current[p] !== undefined) aliases[p] = null;
    }
    save.mutate({ identityConflict: form.get('identityConflict'), aliases });
  }

  if (store.isPending) return <Loading what="the store" />;
  if (!store.data) return <Failure error={store.error} />;
  const s = store.data.settings;
  const shown = ['/settings/identityConflict', ...PLATFORMS.map((p) => `/settings/aliases/${p}`)];
  return (
    <section aria-labelledby="store-settings">
      <h2 id="store-settings">{store.data.name}</h2>
      <form onSubmit={submit} className="stack" key={store.data.updatedAt}>
        <fieldset>
          <legend>When an upsert's identifiers name two customers</legend>
          <label className="check">
            <input
              type="radio"
              name="identityConflict"
              value="reject"
              defaultChecked={s.identityConflict === 'reject'}
            />
            Refuse it (409 identity_conflict)
          </label>
          <label className="check">
            <input
              type="radio"
              name="identityConflict"
              value="merge"
              defaultChecked={s.identityConflict === 'merge'}
            />
            Merge the customers
          </label>
        </fieldset>
        <FieldErrors error={save.error} path="/settings/identityConflict" id="conflict-error" />
        <fieldset>
          <legend>Dialect aliases (the name each platform's requests use for this store)</legend>
          {PLATFORMS.map((p) => (
            <div key={p}>
              <label htmlFor={`alias-${p}`}>{p}</label>
              <input
                id={`alias-${p}`}
                name={`alias-${p}`}
                defaultValue={s.aliases[p] ?? ''}
                aria-describedby={`alias-${p}-error`}
              />
              <FieldErrors
                error={save.error}
                path={`/settings/aliases/${p}`}
                id={`alias-${p}-error`}
              />
            </div>
          ))}
        </fieldset>
        <Failure error={save.error} shownPaths={shown} />
        {save.isSuccess && <p role="status">Saved.</p>}
        <button type="submit" disabled={save.isPending}>
          Save settings
        </button>
      </form>
    </section>
  );
}

function ApiKeys({ storeId }: { storeId: string }) {
  const queryClient = useQueryClient();
  const [made, setMade] = useState<string>();
  const keys = useQuery({
    queryKey: ['api-keys', storeId],
    queryFn: () => api<Page<ApiKey>>(`/v1/stores/${storeId}/api-keys?limit=100`, { as: 'admin' }),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['api-keys', storeId] });
  const create = useMutation({
    mutationFn: (name: string) =>
      api<{ apiKey: string }>(`/v1/stores/${storeId}/api-keys`, {
        method: 'POST',
        body: name ? { name } : {},
        as: 'admin',
      }),
    onSuccess: async (key) => {
      setMade(key.apiKey);
      await refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) =>
      api(`/v1/stores/${storeId}/api-keys/${id}`, { method: 'DELETE', as: 'admin' }),
    onSuccess: refresh,
  });
  const session = readSession();
  const all = keys.data?.data ?? [];
  return (
    <section aria-labelledby="keys">
      <h2 id="keys">API keys</h2>
      {made && (
        <div className="secret" role="status">
          <p>The new key, shown this once:</p>
          <p>
            <code className="big">{made}</code>
          </p>
          <button type="button" onClick={() => setMade(undefined)}>
            I have kept it
          </button>
        </div>
      )}
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(String(new FormData(e.currentTarget).get('name') ?? '').trim());
        }}
      >
        <label htmlFor="key-name">Name of a new key</label>
        <input id="key-name" name="name" aria-describedby="key-name-error" />
        <button type="submit">Create key</button>
      </form>
      <FieldErrors error={create.error} path="/name" id="key-name-error" />
      <Failure error={create.error ?? revoke.error ?? keys.error} shownPaths={['/name']} />
      {keys.isSuccess && all.length === 0 && <Empty>This store has no key.</Empty>}
      {all.length > 0 && (
        <Table columns={['Name', 'Prefix', 'Created', 'Last used', 'State']}>
          {all.map((k) => (
            <tr key={k.id}>
              <td>{k.name ?? '—'}</td>
              <td>
                <code>{k.prefix}</code>
              </td>
              <td>{when(k.createdAt)}</td>
              <td>{when(k.lastUsedAt)}</td>
              <td>
                {k.revokedAt ? (
                  `revoked ${when(k.revokedAt)}`
                ) : k.id === session.sessionKeyId ? (
                  'this session'
                ) : (
                  <button
                    type="button"
                    className="destructive"
                    onClick={() => revoke.mutate(k.id)}
                    aria-label={`Revoke ${k.name ?? k.prefix}`}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
