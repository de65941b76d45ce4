import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api';
import { writeSession } from '../session';
import type { Page, Store } from '../types';
import { Failure } from '../ui';

/** Sign in with a store's id and API key, or with the admin token (then pick a store). */
export function SignInPage() {
  const navigate = useNavigate();
  const [storeError, setStoreError] = useState<unknown>();
  const [adminError, setAdminError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function signInWithKey(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const storeId = String(form.get('storeId') ?? '').trim();
    const apiKey = String(form.get('apiKey') ?? '').trim();
    setBusy(true);
    setStoreError(undefined);
    try {
      if (!storeId || !apiKey) {
        throw new ApiError({ status: 400, detail: 'Give the store id and its API key.' });
      }
      writeSession({ storeId, apiKey });
      await api('/customers?limit=1');
      await navigate({ to: '/customers', search: { q: '' } });
    } catch (error) {
      writeSession({});
      setStoreError(error);
    } finally {
      setBusy(false);
    }
  }

  async function signInAsAdmin(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const adminToken = String(new FormData(event.currentTarget).get('adminToken') ?? '').trim();
    setBusy(true);
    setAdminError(undefined);
    try {
      writeSession({ adminToken });
      await api<Page<Store>>('/v1/stores?limit=1', { as: 'admin' });
      await navigate({ to: '/stores' });
    } catch (error) {
      writeSession({});
      setAdminError(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>Sign in</h1>
      <div className="cards">
        <form className="card" onSubmit={signInWithKey} aria-labelledby="store-sign-in">
          <h2 id="store-sign-in">With a store's API key</h2>
          <label htmlFor="storeId">Store id</label>
          <input id="storeId" name="storeId" placeholder="sto_…" autoComplete="off" required />
          <label htmlFor="apiKey">API key</label>
          <input id="apiKey" name="apiKey" type="password" placeholder="ck_…" required />
          <p className="hint">Kept in this tab only, until you sign out or close it.</p>
          <Failure error={storeError} />
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
        <form className="card" onSubmit={signInAsAdmin} aria-labelledby="admin-sign-in">
          <h2 id="admin-sign-in">With the admin token</h2>
          <label htmlFor="adminToken">Admin token</label>
          <input id="adminToken" name="adminToken" type="password" required />
          <p className="hint">CLIENTELE_ADMIN_TOKEN: then pick a store.</p>
          <Failure error={adminError} />
          <button type="submit" disabled={busy}>
            Sign in as admin
          </button>
        </form>
      </div>
    </main>
  );
}
