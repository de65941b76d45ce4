import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { api, upload } from '../api';
import type { ImportJob, Page } from '../types';
import { Empty, Failure, FieldErrors, Loading, Table, when } from '../ui';
import { ImportErrors } from './import-errors';

const POLL_MS = 500;
const done = (job: ImportJob) => !['queued', 'running'].includes(job.status);

/** The media type the API reads a file as, from its name (browsers know no NDJSON type). */
function formatOf(file: File): string | undefined {
  const name = file.name.toLowerCase();
  if (name.endsWith('.csv') || file.type === 'text/csv') return 'text/csv';
  if (/\.(ndjson|jsonl)$/.test(name) || file.type === 'application/x-ndjson') {
    return 'application/x-ndjson';
  }
  return undefined;
}

/** A file dropped or chosen, sent with its options, and the jobs it and others made. */
export function ImportsPage() {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File>();
  const [sent, setSent] = useState<{ loaded: number; total: number }>();
  const [watching, setWatching] = useState<string>();
  const start = useMutation({
    mutationFn: async (options: { file: File; mode: string; dryRun: boolean }) => {
      const type = formatOf(options.file);
      if (!type) throw new Error(`${options.file.name} is neither a .csv nor an .ndjson file.`);
      const params = new URLSearchParams({ mode: options.mode });
      if (options.dryRun) params.set('dryRun', 'true');
      setSent({ loaded: 0, total: options.file.size });
      return upload<ImportJob>(`/imports?${params}`, options.file, type, (loaded, total) =>
        setSent({ loaded, total }),
      );
    },
    onSuccess: async (job) => {
      setWatching(job.id);
      await queryClient.invalidateQueries({ queryKey: ['imports'] });
    },
  });
  const jobs = useQuery({
    queryKey: ['imports'],
    queryFn: () => api<Page<ImportJob>>('/imports?limit=50'),
    refetchInterval: (q) => (q.state.data?.data.some((j) => !done(j)) ? POLL_MS * 4 : false),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    if (!file) return;
    start.mutate({ file, mode: String(form.get('mode')), dryRun: form.get('dryRun') === 'on' });
  }

  const all = jobs.data?.data ?? [];
  return (
    <main id="main">
      <h1>Imports</h1>
      <section aria-labelledby="new-import">
        <h2 id="new-import">New import</h2>
        <form onSubmit={submit}>
          <div className="drop">
            <label htmlFor="import-file">A CSV or NDJSON file: drop it here, or choose it</label>
            <input
              id="import-file"
              type="file"
              accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson"
              aria-describedby="import-file-hint"
              onChange={(e) => setFile(e.target.files?.[0])}
            />
            <p id="import-file-hint" className="hint">
              {file
                ? `${file.name}, ${file.size.toLocaleString()} bytes`
                : 'CSV: a header row, then a customer a row. NDJSON: one upsert body a line.'}
            </p>
          </div>
          <label htmlFor="import-mode">Mode</label>
          <select id="import-mode" name="mode" defaultValue="upsert" aria-describedby="mode-error">
            <option value="upsert">Create or update (upsert)</option>
            <option value="create_only">Create only: refuse a row that finds a customer</option>
            <option value="update_only">Update only: refuse a row that finds no customer</option>
          </select>
          <FieldErrors error={start.error} path="/query/mode" id="mode-error" />
          <label className="check">
            <input type="checkbox" name="dryRun" /> Dry run: check and count every row, write
            nothing
          </label>
          <div className="actions">
            <button type="submit" disabled={!file || start.isPending}>
              Start import
            </button>
          </div>
        </form>
        {sent && (
          <p>
            <label htmlFor="upload-progress">Upload</label>
            <progress id="upload-progress" max={sent.total || 1} value={sent.loaded} />{' '}
            <span aria-live="polite">
              {Math.round((sent.loaded / (sent.total || 1)) * 100)}% of{' '}
              {sent.total.toLocaleString()} bytes sent
            </span>
          </p>
        )}
        <Failure error={start.error} shownPaths={['/query/mode']} />
      </section>
      {watching && <Job id={watching} />}
      <section aria-labelledby="past-imports">
        <h2 id="past-imports">Past imports</h2>
        <Failure error={jobs.error} />
        {jobs.isPending && <Loading what="imports" />}
        {jobs.isSuccess && all.length === 0 && <Empty>No import yet.</Empty>}
        {all.length > 0 && (
          <Table columns={['Started', 'Status', 'File', 'Rows', 'Refused', 'Actions']}>
            {all.map((j) => (
              <tr key={j.id}>
                <td>{when(j.createdAt)}</td>
                <td>
                  <span className="tag">{j.status}</span>
                  {j.dryRun ? ' dry run' : ''}
                </td>
                <td>
                  {j.format.toUpperCase()}, {j.mode}, {j.bytes.toLocaleString()} bytes
                </td>
                <td>
                  {j.processed.toLocaleString()}
                  {j.total === null ? '' : ` of ${j.total.toLocaleString()}`}
                </td>
                <td>{j.failed.toLocaleString()}</td>
                <td>
                  <button
                    type="button"
                    aria-pressed={watching === j.id}
                    onClick={() => setWatching(j.id)}
                  >
                    Show <span className="visually-hidden">the import of {when(j.createdAt)}</span>
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </main>
  );
}

/** One job as it runs: its progress, its counts, its refused rows; cancel while it runs. */
function Job({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const job = useQuery({
    queryKey: ['import', id],
    queryFn: () => api<ImportJob>(`/imports/${id}`),
    refetchInterval: (q) => (q.state.data && done(q.state.data) ? false : POLL_MS),
    staleTime: 0,
  });
  const cancel = useMutation({
    mutationFn: () => api<ImportJob>(`/imports/${id}/cancel`, { method: 'POST' }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['import', id] });
      await queryClient.invalidateQueries({ queryKey: ['imports'] });
    },
  });
  const j = job.data;
  const finished = j !== undefined && done(j);
  // The list shows the job as it ended, once it has.
  useEffect(() => {
    if (finished) void queryClient.invalidateQueries({ queryKey: ['imports'] });
  }, [finished, queryClient]);
  if (!j) {
    return (
      <>
        <Failure error={job.error} />
        {job.isPending && <Loading what="the import" />}
      </>
    );
  }
  // A CSV's total is known once read to the end; till then the bar has no end to show.
  const total = j.total ?? (finished ? j.processed : undefined);
  return (
    <section aria-labelledby="import-job">
      <h2 id="import-job">
        Import of {when(j.createdAt)} <span className="tag">{j.status}</span>
        {j.dryRun && <span className="tag">dry run</span>}
      </h2>
      <p>
        <label htmlFor="processing-progress">Rows processed</label>
        <progress
          id="processing-progress"
          max={total || 1}
          value={total === undefined ? undefined : j.processed}
        />{' '}
        <span aria-live="polite" data-testid="processed">
          {j.processed.toLocaleString()}
          {total === undefined ? ' rows so far' : ` of ${total.toLocaleString()} rows`}
          {j.rowsPerSecond ? `, ${Math.round(j.rowsPerSecond).toLocaleString()} a second` : ''}
        </span>
      </p>
      <dl className="counts">
        <dt>Created</dt>
        <dd>{j.created.toLocaleString()}</dd>
        <dt>Updated</dt>
        <dd>{j.updated.toLocaleString()}</dd>
        <dt>Unchanged</dt>
        <dd>{j.unchanged.toLocaleString()}</dd>
        <dt>Refused</dt>
        <dd>{j.failed.toLocaleString()}</dd>
      </dl>
      {j.error && (
        <div role="alert" className="failure">
          <p>The import stopped: {j.error}</p>
        </div>
      )}
      {!finished && (
        <button type="button" className="destructive" onClick={() => cancel.mutate()}>
          Cancel the import
        </button>
      )}
      <Failure error={cancel.error} />
      {finished && j.failed > 0 && <ImportErrors id={j.id} />}
      {finished && j.failed === 0 && <Empty>No row was refused.</Empty>}
    </section>
  );
}
