import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { api } from '../api';
import { readSession } from '../session';
import type { ApiKey, Customer, CustomerEvent, CustomField, Page } from '../types';
import { Empty, Failure, Loading, nameOf, show, when } from '../ui';
import { Erase, ExportData } from './customer-erase';
import { CustomerMerges } from './customer-merges';
import { CustomerSegments } from './customer-segments';

export function CustomerPage() {
  const { customerId } = useParams({ from: '/customers/$customerId' });
  const customer = useQuery({
    queryKey: ['customer', customerId],
    queryFn: () => api<Customer>(`/customers/${encodeURIComponent(customerId)}`),
  });
  const fields = useQuery({
    queryKey: ['custom-fields'],
    queryFn: () => api<{ data: CustomField[] }>('/custom-fields'),
  });
  const c = customer.data;
  const typeOf = new Map(fields.data?.data.map((f) => [f.name, f.type]));
  const located = Object.entries(c?.location ?? {}).filter(([, v]) => v !== null);

  return (
    <main id="main">
      <p>
        <Link to="/customers" search={{ q: '' }}>
          ← Customers
        </Link>
      </p>
      {customer.isPending && <Loading what="the customer" />}
      <Failure error={customer.error} />
      {c && (
        <>
          <h1>{nameOf(c)}</h1>
          <p className="muted">
            <code>{c.id}</code> · version {c.version} · created {when(c.createdAt)} · updated{' '}
            {when(c.updatedAt)}
          </p>
          <div className="grid">
            <section aria-labelledby="profile">
              <h2 id="profile">Profile</h2>
              <dl>
                <Item label="Email" value={c.email} />
                <Item label="External id" value={c.externalId} />
                <Item label="First name" value={c.firstName} />
                <Item label="Last name" value={c.lastName} />
                <Item label="Display name" value={c.displayName} />
                <Item label="Birthdate" value={c.birthdate} />
                <Item label="Description" value={c.description} />
                <Item label="Active" value={c.active ? 'yes' : 'no'} />
              </dl>
            </section>
            <section aria-labelledby="identifiers">
              <h2 id="identifiers">Phone numbers and identifiers</h2>
              {c.phoneNumbers.length === 0 &&
                c.identifiers.length === 0 &&
                c.mergedIdentifiers.length === 0 && (
                  <Empty>No phone number or typed identifier.</Empty>
                )}
              <ul className="list">
                {c.phoneNumbers.map((p) => (
                  <li key={p}>
                    <span className="tag">phone</span> {p}
                  </li>
                ))}
                {c.identifiers.map((i) => (
                  <li key={`${i.type}:${i.value}`}>
                    <span className="tag">{i.type}</span> {i.value}
                  </li>
                ))}
                {c.mergedIdentifiers.map((m) => (
                  <li
                    key={`merged:${m.type}:${m.value}`}
                    title="From a customer merged into this one: it still finds this customer"
                  >
                    <span className="tag">
                      merged {m.type === 'email' ? 'email' : 'external id'}
                    </span>{' '}
                    {m.value}
                  </li>
                ))}
              </ul>
            </section>
            <section aria-labelledby="custom-fields">
              <h2 id="custom-fields">Custom fields</h2>
              {Object.keys(c.customFields).length === 0 ? (
                <Empty>No custom field set.</Empty>
              ) : (
                <dl>
                  {Object.entries(c.customFields).map(([name, value]) => (
                    <Item
                      key={name}
                      label={name}
                      value={show(value)}
                      note={typeOf.get(name) ?? typeof value}
                    />
                  ))}
                </dl>
              )}
            </section>
            <section aria-labelledby="location">
              <h2 id="location">Location</h2>
              {located.length === 0 ? (
                <Empty>No location.</Empty>
              ) : (
                <dl>
                  {located.map(([k, v]) => (
                    <Item key={k} label={k} value={show(v)} />
                  ))}
                </dl>
              )}
            </section>
            <section aria-labelledby="channels">
              <h2 id="channels">Channels</h2>
              {c.channels.length === 0 ? (
                <Empty>No channel.</Empty>
              ) : (
                <ul className="list">
                  {c.channels.map((ch) => (
                    <li key={`${ch.type}:${ch.value}`}>
                      <span className="tag">{ch.type}</span> {ch.value}
                      {ch.primary ? ' · primary' : ''}
                      {ch.verified ? ' · verified' : ''}
                      {ch.subscribed === undefined
                        ? ''
                        : ch.subscribed
                          ? ' · subscribed'
                          : ' · unsubscribed'}
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="loyalty">
              <h2 id="loyalty">Loyalty</h2>
              {c.loyalty ? (
                <>
                  <p>Status: {c.loyalty.status ?? '—'}</p>
                  {(c.loyalty.enrollments ?? []).length === 0 ? (
                    <Empty>Not enrolled in a program.</Empty>
                  ) : (
                    <ul className="list">
                      {(c.loyalty.enrollments ?? []).map((e) => (
                        <li key={e.programId}>
                          Program {e.programId}
                          {e.tierNumber === null ? '' : ` · tier ${e.tierNumber}`} ·{' '}
                          {e.points.toLocaleString()} points
                          {e.pointsExpireAt ? ` (expire ${when(e.pointsExpireAt)})` : ''}
                          {e.tierExpiresAt ? ` · tier until ${when(e.tierExpiresAt)}` : ''}
                        </li>
                      ))}
                    </ul>
                  )}
                </>
              ) : (
                <Empty>No loyalty record.</Empty>
              )}
            </section>
            <CustomerSegments customerId={c.id} />
            {Object.keys(c.metadata).length > 0 && (
              <section aria-labelledby="metadata">
                <h2 id="metadata">Metadata</h2>
                <pre>{JSON.stringify(c.metadata, null, 2)}</pre>
              </section>
            )}
          </div>
          <CustomerMerges customerId={c.id} />
          <History customerId={c.id} />
          <ExportData customer={c} />
          <Erase customer={c} />
        </>
      )}
    </main>
  );
}

function Item({ label, value, note }: { label: string; value: string | null; note?: string }) {
  return (
    <>
      <dt>
        {label}
        {note && <span className="tag">{note}</span>}
      </dt>
      <dd>{value ?? '—'}</dd>
    </>
  );
}

/** The names of the store's keys, when the session may list them (an admin's). */
function useKeyNames(): Map<string, string> {
  const session = readSession();
  const keys = useQuery({
    queryKey: ['api-keys', session.storeId],
    enabled: Boolean(session.adminToken),
    queryFn: () =>
      api<Page<ApiKey>>(`/v1/stores/${session.storeId}/api-keys?limit=100`, { as: 'admin' }),
  });
  return new Map((keys.data?.data ?? []).map((k) => [k.id, k.name ?? k.prefix]));
}

function History({ customerId }: { customerId: string }) {
  const keyNames = useKeyNames();
  const events = useInfiniteQuery({
    queryKey: ['customer-events', customerId],
    queryFn: ({ pageParam }) =>
      api<Page<CustomerEvent>>(
        `/customers/${encodeURIComponent(customerId)}/events?limit=20${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const all = events.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <section aria-labelledby="history">
      <h2 id="history">History</h2>
      <Failure error={events.error} />
      {events.isPending && <Loading what="the history" />}
      {events.isSuccess && all.length === 0 && <Empty>No change recorded.</Empty>}
      <ol className="timeline">
        {all.map((e) => (
          <li key={e.id}>
            <p>
              <strong>{e.type}</strong>
              {e.version !== null && (
                <>
                  {' '}
                  · version {e.previousVersion} → {e.version}
                </>
              )}{' '}
              · by the {e.api} API
              {e.keyId && (
                <>
                  {' '}
                  with key <code>{keyNames.get(e.keyId) ?? e.keyId}</code>
                </>
              )}{' '}
              · <time dateTime={e.createdAt}>{when(e.createdAt)}</time>
            </p>
            {Object.keys(e.changes).length > 0 && (
              <div className="table-wrap">
                <table className="changes">
                  <thead>
                    <tr>
                      <th scope="col">Field</th>
                      <th scope="col">Before</th>
                      <th scope="col">After</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(e.changes).map(([field, change]) => (
                      <tr key={field}>
                        <th scope="row">{field}</th>
                        <td>{show(change.before)}</td>
                        <td>{show(change.after)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </li>
        ))}
      </ol>
      {events.hasNextPage && (
        <button type="button" onClick={() => events.fetchNextPage()}>
          Older changes
        </button>
      )}
    </section>
  );
}
