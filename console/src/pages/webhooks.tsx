import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api } from '../api';
import { Empty, Failure, FieldErrors, Loading, Table, when } from '../ui';

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
}

interface Attempt {
  id: string;
  eventId: string;
  eventType: string;
  attempt: number;
  at: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
}

const EVENTS = [
  '*',
  'customer.created',
  'customer.updated',
  'customer.merged',
  'customer.unmerged',
  'customer.erased',
  'segment.entered',
  'segment.exited',
  'import.completed',
];

export function WebhooksPage() {
  const queryClient = useQueryClient();
  const endpoints = useQuery({
    queryKey: ['webhooks'],
    queryFn: () => api<{ data: Endpoint[] }>('/webhook-endpoints'),
  });
  const [secret, setSecret] = useState<{ url: string; secret: string }>();
  const create = useMutation({
    mutationFn: (body: { url: string; events: string[]; description?: string }) =>
      api<Endpoint & { secret: string }>('/webhook-endpoints', { method: 'POST', body }),
    onSuccess: async (created) => {
      setSecret({ url: created.url, secret: created.secret });
      await queryClient.invalidateQueries({ queryKey: ['webhooks'] });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const description = String(form.get('description') ?? '').trim();
    create.mutate({
      url: String(form.get('url') ?? '').trim(),
      events: form.getAll('events').map(String),
      ...(description ? { description } : {}),
    });
  }

  const all = endpoints.data?.data ?? [];
  return (
    <main id="main">
      <h1>Webhooks</h1>
      {secret && (
        <div className="secret" role="status">
          <p>
            The signing secret of <code>{secret.url}</code>, shown this once: keep it now.
          </p>
          <p>
            <code className="big" data-testid="webhook-secret">
              {secret.secret}
            </code>
          </p>
          <button type="button" onClick={() => setSecret(undefined)}>
            I have kept it
          </button>
        </div>
      )}
      <section aria-labelledby="new-endpoint">
        <h2 id="new-endpoint">New endpoint</h2>
        <form onSubmit={submit} className="stack">
          <label htmlFor="wh-url">URL</label>
          <input
            id="wh-url"
            name="url"
            type="url"
            required
            placeholder="https://example.com/hooks/clientele"
            aria-describedby="wh-url-error"
          />
          <FieldErrors error={create.error} path="/url" id="wh-url-error" />
          <fieldset aria-describedby="wh-events-error">
            <legend>Events</legend>
            {EVENTS.map((name) => (
              <label key={name} className="check">
                <input type="checkbox" name="events" value={name} defaultChecked={name === '*'} />
                {name === '*' ? 'every event (*)' : name}
              </label>
            ))}
          </fieldset>
          <FieldErrors error={create.error} path="/events" id="wh-events-error" />
          <label htmlFor="wh-description">Description (optional)</label>
          <input id="wh-description" name="description" />
          <Failure error={create.error} shownPaths={['/url', '/events']} />
          <button type="submit" disabled={create.isPending}>
            Create endpoint
          </button>
        </form>
      </section>
      <section aria-labelledby="endpoints">
        <h2 id="endpoints">Endpoints</h2>
        <Failure error={endpoints.error} />
        {endpoints.isPending && <Loading what="endpoints" />}
        {endpoints.isSuccess && all.length === 0 && (
          <Empty>No endpoint yet: events reach no URL.</Empty>
        )}
        {all.map((e) => (
          <EndpointCard key={e.id} endpoint={e} />
        ))}
      </section>
    </main>
  );
}

function EndpointCard({ endpoint }: { endpoint: Endpoint }) {
  const queryClient = useQueryClient();
  const [showLog, setShowLog] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  const path = `/webhook-endpoints/${encodeURIComponent(endpoint.id)}`;
  const ping = useMutation({
    mutationFn: () =>
      api<{ status: number | null; latencyMs: number; error: string | null }>(`${path}/ping`, {
        method: 'POST',
      }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['attempts', endpoint.id] }),
  });
  const toggle = useMutation({
    mutationFn: () => api(path, { method: 'PATCH', body: { enabled: !endpoint.enabled } }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => api(path, { method: 'DELETE' }),
    onSuccess: refresh,
  });
  return (
    <article className="card" aria-label={`Endpoint ${endpoint.url}`}>
      <h3>
        <code>{endpoint.url}</code>
      </h3>
      <p>
        {endpoint.enabled
          ? 'Enabled'
          : `Disabled${endpoint.disabledReason ? `: ${endpoint.disabledReason}` : ''}`}
        {' · '}
        {endpoint.events.join(', ')}
        {endpoint.description ? ` · ${endpoint.description}` : ''}
        {endpoint.failingSince ? ` · failing since ${when(endpoint.failingSince)}` : ''}
      </p>
      <div className="actions">
        <button type="button" onClick={() => ping.mutate()} disabled={ping.isPending}>
          Send a test ping
        </button>
        <button type="button" onClick={() => toggle.mutate()}>
          {endpoint.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
          Delivery log
        </button>
        <button
          type="button"
          className="destructive"
          onClick={() => {
            if (window.confirm(`Delete the endpoint ${endpoint.url}?`)) remove.mutate();
          }}
        >
          Delete
        </button>
      </div>
      {ping.data && (
        <p role="status">
          Ping answered {ping.data.status ?? 'nothing'} in {ping.data.latencyMs} ms
          {ping.data.error ? `: ${ping.data.error}` : ''}
        </p>
      )}
      <Failure error={ping.error ?? toggle.error ?? remove.error} />
      {showLog && <DeliveryLog endpointId={endpoint.id} />}
    </article>
  );
}

function DeliveryLog({ endpointId }: { endpointId: string }) {
  const path = `/webhook-endpoints/${encodeURIComponent(endpointId)}`;
  const attempts = useQuery({
    queryKey: ['attempts', endpointId],
    queryFn: () =>
      api<{ data: Attempt[]; hasMore: boolean; pending: number }>(`${path}/attempts?limit=50`),
  });
  const redeliver = useMutation({
    mutationFn: (eventId: string) =>
      api<{ queued: number }>(`${path}/redeliver`, { method: 'POST', body: { eventId } }),
  });
  const all = attempts.data?.data ?? [];
  return (
    <div>
      <Failure error={attempts.error ?? redeliver.error} />
      {attempts.isPending && <Loading what="the delivery log" />}
      {attempts.data && <p>{attempts.data.pending} deliveries still to be made.</p>}
      {attempts.isSuccess && all.length === 0 && <Empty>Nothing sent to this endpoint yet.</Empty>}
      {redeliver.data && <p role="status">Queued {redeliver.data.queued} delivery again.</p>}
      {all.length > 0 && (
        <Table columns={['When', 'Event', 'Attempt', 'Answer', 'Time', 'Action']}>
          {all.map((a) => (
            <tr key={a.id}>
              <td>{when(a.at)}</td>
              <td>{a.eventType}</td>
              <td>{a.attempt}</td>
              <td>{a.status ?? a.error ?? 'no answer'}</td>
              <td>{a.latencyMs} ms</td>
              <td>
                <button type="button" onClick={() => redeliver.mutate(a.eventId)}>
                  Resend
                </button>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </div>
  );
}
