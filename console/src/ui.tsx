import { type ReactNode, useEffect, useState } from 'react';
import { ApiError } from './api';

/** A failure in words: the API's `detail`, and its `errors[]` not shown beside a field. */
export function Failure({ error, shownPaths = [] }: { error: unknown; shownPaths?: string[] }) {
  if (!error) return null;
  const problem =
    error instanceof ApiError
      ? error.problem
      : { status: 0, detail: error instanceof Error ? error.message : String(error) };
  const rest = (problem.errors ?? []).filter((e) => !shownPaths.includes(e.path));
  return (
    <div role="alert" className="failure">
      <p>{problem.detail ?? problem.title ?? 'The request failed.'}</p>
      {rest.length > 0 && (
        <ul>
          {rest.map((e) => (
            <li key={`${e.path}:${e.message}`}>
              <code>{e.path}</code> {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The messages a problem has for one field, shown under that field's control. */
export function FieldErrors({ error, path, id }: { error: unknown; path: string; id: string }) {
  const messages = error instanceof ApiError ? error.forField(path) : [];
  if (messages.length === 0) return null;
  return (
    <p id={id} className="field-error">
      {messages.join('; ')}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function show(value: unknown): string {
  if (value === undefined) return '(none)';
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function nameOf(c: {
  displayName: string | null;
  firstName: string | null;
  lastName: string | null;
}) {
  return c.displayName ?? ([c.firstName, c.lastName].filter(Boolean).join(' ') || '—');
}

/** "1 customer matches", "3 customers match": a count in words. */
/** Saves a file the page made (a download, as a link to it would). */
export function saveFile(file: Blob, name: string): void {
  const url = URL.createObjectURL(file);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

export function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** Waits until typing pauses, so that a request goes out once per pause, not per key. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** A table that scrolls sideways on a narrow screen, with its column headings. */
export function Table({
  columns,
  caption,
  busy,
  children,
}: {
  columns: string[];
  caption?: string;
  busy?: boolean;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table aria-busy={busy}>
        {caption && <caption className="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
