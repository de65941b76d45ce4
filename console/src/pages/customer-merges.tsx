import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api } from '../api';
import { Empty, Failure, Loading, when } from '../ui';

interface Merge {
  id: string;
  targetId: string;
  sourceIds: string[];
  origin: 'request' | 'identityConflict';
  createdAt: string;
  undoneAt: string | null;
  collisions: { path: string; customerId: string; heldBy: string; settled: string }[] | null;
  erased: boolean;
}

/**
 * Merging other customers into this one (their ids typed in), and this customer's
 * merges, each with an Undo while it can be undone.
 */
export function CustomerMerges({ customerId }: { customerId: string }) {
  const queryClient = useQueryClient();
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>();
  const [settled, setSettled] = useState<Merge['collisions']>(null);
  const merges = useQuery({
    queryKey: ['customer-merges', customerId],
    queryFn: () =>
      api<{ data: Merge[] }>(`/merges?customerId=${encodeURIComponent(customerId)}&limit=100`),
  });
  const refresh = () =>
    Promise.all(
      [['customer'], ['customer-merges'], ['customer-events'], ['customers']].map((queryKey) =>
        queryClient.invalidateQueries({ queryKey }),
      ),
    );

  async function merge(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setSettled(null);
    try {
      const sourceIds = typed.split(/[\s,]+/).filter(Boolean);
      await api(`/customers/${encodeURIComponent(customerId)}/merge`, {
        method: 'POST',
        body: { sourceIds },
      });
      setTyped('');
      await refresh();
    } catch (e) {
      setError(e);
    }
  }

  async function undo(id: string) {
    setError(undefined);
    try {
      const answer = await api<{ collisions: Merge['collisions'] }>(`/merges/${id}/undo`, {
        method: 'POST',
      });
      setSettled(answer.collisions);
      await refresh();
    } catch (e) {
      setError(e);
    }
  }

  const all = merges.data?.data ?? [];
  return (
    <section aria-labelledby="merges">
      <h2 id="merges">Merges</h2>
      <form onSubmit={merge}>
        <label htmlFor="merge-sources">Customer ids to merge into this customer</label>
        <input
          id="merge-sources"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder="cust_… cust_…"
          autoComplete="off"
        />
        <button type="submit" disabled={typed.trim() === ''}>
          Merge into this customer
        </button>
      </form>
      <Failure error={error} />
      {settled && settled.length > 0 && (
        <ul className="list" aria-label="Collisions">
          {settled.map((c) => (
            <li key={`${c.customerId}:${c.path}`}>
              <code>{c.path}</code>: {c.settled}
            </li>
          ))}
        </ul>
      )}
      <Failure error={merges.error} />
      {merges.isPending && <Loading what="merges" />}
      {merges.isSuccess && all.length === 0 && <Empty>No merge.</Empty>}
      <ul className="list">
        {all.map((m) => (
          <li key={m.id}>
            <code>{m.id}</code> {m.targetId === customerId ? 'from' : 'into'}{' '}
            {m.targetId === customerId ? m.sourceIds.join(', ') : m.targetId}{' '}
            <span className="muted">
              {when(m.createdAt)}
              {m.origin === 'identityConflict' ? ' · by an identity conflict' : ''}
              {m.undoneAt ? ` · undone ${when(m.undoneAt)}` : ''}
              {m.erased ? ' · a customer of it was erased' : ''}
            </span>{' '}
            {!m.undoneAt && !m.erased && m.targetId === customerId && (
              <button type="button" onClick={() => undo(m.id)}>
                Undo {m.id}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
