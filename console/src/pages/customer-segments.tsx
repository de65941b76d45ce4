import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { api } from '../api';
import { Empty, Failure, Loading, when } from '../ui';

/** The segments a customer is in now, each a link to its members. */
export function CustomerSegments({ customerId }: { customerId: string }) {
  const segments = useQuery({
    queryKey: ['customer-segments', customerId],
    queryFn: () =>
      api<{ data: { id: string; name: string; joinedAt: string }[] }>(
        `/customers/${encodeURIComponent(customerId)}/segments`,
      ),
  });
  const all = segments.data?.data ?? [];
  return (
    <section aria-labelledby="segments">
      <h2 id="segments">Segments</h2>
      <Failure error={segments.error} />
      {segments.isPending && <Loading what="segments" />}
      {segments.isSuccess && all.length === 0 && <Empty>In no segment.</Empty>}
      <ul className="list">
        {all.map((s) => (
          <li key={s.id}>
            <Link to="/customers" search={{ q: '', segment: s.id }}>
              {s.name}
            </Link>{' '}
            <span className="muted">since {when(s.joinedAt)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
