import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api } from '../api';
import type { Customer } from '../types';
import { Failure, saveFile } from '../ui';

/** Everything held about the person, as one JSON file (GET …/customers/{id}/export). */
export function ExportData({ customer }: { customer: Customer }) {
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });

  async function save() {
    setState({ busy: true });
    try {
      const data = await api<unknown>(`/customers/${encodeURIComponent(customer.id)}/export`);
      const file = new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' });
      saveFile(file, `${customer.id}-export.json`);
      setState({ busy: false });
    } catch (error) {
      setState({ busy: false, error });
    }
  }

  return (
    <section aria-labelledby="export">
      <h2 id="export">Export this customer's data</h2>
      <p>
        One JSON file with everything Clientele holds about them: the profile, identifiers, custom
        fields, history, merges, segments and suppression state.
      </p>
      <button type="button" onClick={save} disabled={state.busy}>
        {state.busy ? 'Preparing…' : 'Download (JSON)'}
      </button>
      <Failure error={state.error} />
    </section>
  );
}

/** Erasing takes typing what names the customer: its email, or its id when it has none. */
export function Erase({ customer }: { customer: Customer }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>();
  const expected = customer.email ?? customer.id;

  async function erase(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    try {
      await api(`/customers/${encodeURIComponent(customer.id)}`, { method: 'DELETE' });
      await queryClient.invalidateQueries({ queryKey: ['customers'] });
      await navigate({ to: '/customers', search: { q: '' } });
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section aria-labelledby="erase" className="danger">
      <h2 id="erase">Erase this customer</h2>
      <p>
        Erasing deletes the profile, its identifiers and its history for good. Type{' '}
        <code>{expected}</code> to confirm.
      </p>
      <form onSubmit={erase}>
        <label htmlFor="erase-confirm">
          Confirm by typing {customer.email ? 'the email' : 'the id'}
        </label>
        <input
          id="erase-confirm"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          autoComplete="off"
        />
        <Failure error={error} />
        <button type="submit" className="destructive" disabled={typed.trim() !== expected}>
          Erase
        </button>
      </form>
    </section>
  );
}
