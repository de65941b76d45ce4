import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { api } from '../api';
import type { Customer, Page } from '../types';
import { Empty, Failure, FieldErrors, Loading, nameOf, when } from '../ui';

const PAGE = 50;

/** Waits until typing pauses, so that a search goes out once per pause, not per key. */
function useDebounced(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function CustomersPage() {
  const { q } = useSearch({ from: '/customers' });
  const navigate = useNavigate({ from: '/customers' });
  const [typed, setTyped] = useState(q);
  const term = useDebounced(typed.trim(), 200);

  useEffect(() => {
    if (term !== q) void navigate({ search: { q: term }, replace: true });
  }, [term, q, navigate]);

  const customers = useInfiniteQuery({
    queryKey: ['customers', term],
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: String(PAGE) });
      if (term) params.set('q', term);
      if (pageParam) params.set('cursor', pageParam);
      return api<Page<Customer>>(`/customers?${params}`, { signal });
    },
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = customers.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <main id="main">
      <h1>Customers</h1>
      <div className="search">
        <label htmlFor="q">Search by email, phone, name or external id</label>
        <input
          id="q"
          type="search"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder="jane@, +1202, Jane Do, ext-42…"
          aria-describedby="q-error"
          autoComplete="off"
        />
        <FieldErrors error={customers.error} path="/query/q" id="q-error" />
      </div>
      <Failure error={customers.error} shownPaths={['/query/q']} />
      {customers.isPending && <Loading what="customers" />}
      {customers.isSuccess && rows.length === 0 && (
        <Empty>
          {term
            ? `No customer's email, phone number, name or external id starts with “${term}”.`
            : 'This store has no customers yet: upsert one through the API.'}
        </Empty>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table aria-busy={customers.isFetching}>
            <caption className="visually-hidden">
              {term ? `Customers matching “${term}”` : 'Customers, newest first'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Phone</th>
                <th scope="col">External id</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to="/customers/$customerId" params={{ customerId: c.id }}>
                      {nameOf(c)}
                    </Link>
                  </td>
                  <td>{c.email ?? '—'}</td>
                  <td>{c.phoneNumbers[0] ?? '—'}</td>
                  <td>{c.externalId ?? '—'}</td>
                  <td>{when(c.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {customers.hasNextPage && (
        <button
          type="button"
          onClick={() => customers.fetchNextPage()}
          disabled={customers.isFetchingNextPage}
        >
          {customers.isFetchingNextPage ? 'Loading…' : 'More customers'}
        </button>
      )}
    </main>
  );
}
