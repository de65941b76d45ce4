import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { api } from '../api';
import type { Customer, Page, Segment } from '../types';
import { Empty, Failure, FieldErrors, Loading, nameOf, useDebounced, when } from '../ui';

const PAGE = 50;

export function CustomersPage() {
  const { q, segment } = useSearch({ from: '/customers' });
  const navigate = useNavigate({ from: '/customers' });
  const [typed, setTyped] = useState(q);
  // The API searches or lists a segment, one at a time (docs/api.md, Reads).
  const term = useDebounced(segment ? '' : typed.trim(), 200);
  const segments = useQuery({
    queryKey: ['segments'],
    queryFn: () => api<{ data: Segment[] }>('/segments'),
  });
  const chosen = segments.data?.data.find((s) => s.id === segment);

  useEffect(() => {
    if (term !== q) void navigate({ search: (s) => ({ ...s, q: term }), replace: true });
  }, [term, q, navigate]);

  const customers = useInfiniteQuery({
    queryKey: ['customers', term, segment],
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: String(PAGE) });
      if (segment) params.set('segment', segment);
      else if (term) params.set('q', term);
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
      <div className="filters">
        <div className="search">
          <label htmlFor="q">Search by email, phone, name or external id</label>
          <input
            id="q"
            type="search"
            value={segment ? '' : typed}
            onChange={(e) => setTyped(e.target.value)}
            placeholder="jane@, +1202, Jane Do, ext-42…"
            aria-describedby="q-error q-hint"
            autoComplete="off"
            disabled={Boolean(segment)}
          />
          {segment && (
            <p id="q-hint" className="hint">
              Searching looks through every customer: show all customers to search.
            </p>
          )}
          <FieldErrors error={customers.error} path="/query/q" id="q-error" />
        </div>
        <div className="search">
          <label htmlFor="segment">Segment</label>
          <select
            id="segment"
            value={segment ?? ''}
            aria-describedby="segment-error"
            onChange={(e) => {
              const next = e.target.value;
              setTyped('');
              void navigate({ search: next ? { q: '', segment: next } : { q: '' } });
            }}
          >
            <option value="">All customers</option>
            {segment && !chosen && <option value={segment}>{segment}</option>}
            {segments.data?.data.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.count.toLocaleString()})
              </option>
            ))}
          </select>
          <FieldErrors error={customers.error} path="/query/segment" id="segment-error" />
        </div>
      </div>
      <Failure error={customers.error} shownPaths={['/query/q', '/query/segment']} />
      {customers.isPending && <Loading what="customers" />}
      {customers.isSuccess && rows.length === 0 && (
        <Empty>
          {segment
            ? `No customer is in ${chosen ? `the segment “${chosen.name}”` : 'this segment'} now.`
            : term
              ? `No customer's email, phone number, name or external id starts with “${term}”.`
              : 'This store has no customers yet: upsert one through the API.'}
        </Empty>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table aria-busy={customers.isFetching}>
            <caption className="visually-hidden">
              {segment
                ? `Customers in ${chosen?.name ?? segment}, newest first`
                : term
                  ? `Customers matching “${term}”`
                  : 'Customers, newest first'}
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
