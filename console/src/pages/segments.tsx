import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api';
import {
  type FieldType,
  filterFields,
  fromFilter,
  type Group,
  type Node,
  newGroup,
  pathsOf,
  toFilter,
} from '../filter';
import type { CustomField, Segment } from '../types';
import { Empty, Failure, FieldErrors, Loading, plural, Table, useDebounced, when } from '../ui';
import { ConditionEditor } from './segment-condition';

/** How often counts are read again while the page is open: other writers move them. */
const REFRESH_MS = 3_000;

/** 503 `values_preparing`: a store's first preview, while its customers' values are filled. */
const preparing = (error: unknown) =>
  error instanceof ApiError && error.problem.code === 'values_preparing';

/** The store's segments with their counts, and the builder that makes and edits them. */
export function SegmentsPage() {
  const segments = useQuery({
    queryKey: ['segments'],
    queryFn: () => api<{ data: Segment[] }>('/segments'),
    refetchInterval: REFRESH_MS,
  });
  const [editing, setEditing] = useState<Segment | 'new'>('new');
  const all = segments.data?.data ?? [];
  return (
    <main id="main">
      <h1>Segments</h1>
      <p className="muted">
        A segment is a saved filter; every write keeps its members and count current.
      </p>
      <section aria-labelledby="saved">
        <h2 id="saved">Saved segments</h2>
        <Failure error={segments.error} />
        {segments.isPending && <Loading what="segments" />}
        {segments.isSuccess && all.length === 0 && (
          <Empty>No segment yet: build one below and save it.</Empty>
        )}
        {all.length > 0 && (
          <Table columns={['Name', 'Members', 'Status', 'Updated', 'Actions']}>
            {all.map((s) => (
              <SegmentRow key={s.id} segment={s} onEdit={() => setEditing(s)} />
            ))}
          </Table>
        )}
      </section>
      <Builder
        key={editing === 'new' ? 'new' : editing.id}
        segment={editing === 'new' ? undefined : editing}
        onDone={() => setEditing('new')}
      />
    </main>
  );
}

function SegmentRow({ segment, onEdit }: { segment: Segment; onEdit: () => void }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => api(`/segments/${segment.id}`, { method: 'DELETE' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['segments'] }),
  });
  return (
    <tr>
      <th scope="row">{segment.name}</th>
      <td>{segment.count.toLocaleString()}</td>
      <td>
        <span className="tag">{segment.status}</span>
      </td>
      <td>{when(segment.updatedAt)}</td>
      <td>
        <div className="actions">
          <Link to="/customers" search={{ q: '', segment: segment.id }}>
            Members of {segment.name}
          </Link>
          <button type="button" onClick={onEdit}>
            Edit {segment.name}
          </button>
          {confirming ? (
            <>
              <button type="button" className="destructive" onClick={() => remove.mutate()}>
                Delete {segment.name} for good
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" className="destructive" onClick={() => setConfirming(true)}>
              Delete {segment.name}
            </button>
          )}
        </div>
        <Failure error={remove.error} />
      </td>
    </tr>
  );
}

/** Replaces the node with `key` in the tree by what `change` makes of it (null: removes it). */
function edit(node: Node, key: number, change: (n: Node) => Node | null): Node | null {
  if (node.key === key) return change(node);
  if (node.kind === 'leaf') return node;
  const items = node.items.map((n) => edit(n, key, change)).filter((n): n is Node => n !== null);
  return { ...node, items };
}

function Builder({ segment, onDone }: { segment?: Segment | undefined; onDone: () => void }) {
  const queryClient = useQueryClient();
  const declared = useQuery({
    queryKey: ['custom-fields'],
    queryFn: () => api<{ data: CustomField[] }>('/custom-fields'),
  });
  const fields = filterFields(declared.data?.data ?? []);
  const types = new Map(fields.map((f) => [f.name, f.type]));
  const typeOf = (name: string): FieldType | undefined => types.get(name);
  const loaded = segment ? fromFilter(segment.filter) : newGroup();
  const [name, setName] = useState(segment?.name ?? '');
  const [root, setRoot] = useState<Group>(loaded ?? newGroup());
  const filter = toFilter(root, typeOf);
  const settled = useDebounced(JSON.stringify(filter ?? null), 300);
  const preview = useQuery({
    queryKey: ['segment-preview', settled],
    queryFn: ({ signal }) =>
      api<{ count: number }>('/segments/preview', {
        method: 'POST',
        body: { filter: JSON.parse(settled) },
        signal,
      }),
    enabled: settled !== 'null' && declared.isSuccess,
    // Asked again every second while the store's values are prepared (each ask fills more).
    refetchInterval: (query) => (preparing(query.state.error) ? 1_000 : REFRESH_MS),
  });
  const save = useMutation({
    mutationFn: (body: { name: string; filter: unknown }) =>
      segment
        ? api<Segment>(`/segments/${segment.id}`, { method: 'PATCH', body })
        : api<Segment>('/segments', { method: 'POST', body }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['segments'] });
      onDone();
      if (!segment) {
        setName('');
        setRoot(newGroup());
      }
    },
  });
  const change = (key: number, fn: (n: Node) => Node | null) =>
    setRoot((r) => (edit(r, key, fn) as Group | null) ?? newGroup());
  const paths = pathsOf(root);
  // A refusal of the preview or of the save, each error shown by the condition it names.
  // The store's first preview, while its values are filled: not a failure, a wait.
  const waiting = preparing(preview.error);
  const error = save.error ?? (waiting ? null : preview.error);
  const shown = [...paths.values()].flatMap((p) => [`${p}/field`, `${p}/op`, `${p}/value`]);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    save.mutate({ name: name.trim(), filter: filter ?? { and: [] } });
  }

  const title = segment ? `Edit ${segment.name}` : 'New segment';
  return (
    <section aria-labelledby="builder">
      <h2 id="builder">{title}</h2>
      {segment && !loaded && (
        <div role="alert" className="failure">
          <p>This segment's filter uses “not”, which the builder does not write:</p>
          <pre>{JSON.stringify(segment.filter, null, 2)}</pre>
          <p>Build a new filter here to replace it, or change it through the API.</p>
        </div>
      )}
      <form onSubmit={submit}>
        <label htmlFor="segment-name">Name</label>
        <input
          id="segment-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-describedby="segment-name-error"
          autoComplete="off"
        />
        <FieldErrors error={save.error} path="/name" id="segment-name-error" />
        <ConditionEditor
          node={root}
          label="all customers"
          fields={fields}
          typeOf={typeOf}
          paths={paths}
          error={error}
          onChange={change}
          depth={1}
        />
        <p className="count" aria-live="polite">
          {filter === undefined
            ? 'Add a condition to see how many customers match.'
            : waiting
              ? "Preparing this store's custom-field values for segments (once, for its first segment)…"
              : preview.data
                ? `${plural(preview.data.count, 'customer matches', 'customers match')} now`
                : 'Counting…'}
        </p>
        <Failure error={error} shownPaths={[...shown, '/name']} />
        <div className="actions">
          <button type="submit" disabled={save.isPending}>
            {segment ? 'Save changes' : 'Save segment'}
          </button>
          {segment && (
            <button type="button" onClick={onDone}>
              Cancel editing
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
