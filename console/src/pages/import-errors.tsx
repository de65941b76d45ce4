import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api';
import type { ImportRowError, Page } from '../types';
import { Failure, Loading, saveFile, Table } from '../ui';

const PAGE = 1000;
const errorsOf = (id: string, cursor: string) =>
  api<Page<ImportRowError>>(
    `/imports/${id}/errors?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  );

/** A CSV cell: quoted when it holds a quote, the delimiter or a line break. */
const cell = (v: string | number) => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Every refused row of a job, read page by page, as one CSV file. */
async function refusedRowsFile(id: string): Promise<Blob> {
  const lines = ['row,line,code,path,message,rowText'];
  let cursor = '';
  do {
    const page = await errorsOf(id, cursor);
    for (const e of page.data) {
      lines.push([e.row, e.line, e.code, e.path, e.message, e.rowText].map(cell).join(','));
    }
    cursor = page.nextCursor ?? '';
  } while (cursor);
  return new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv' });
}

/** The rows a job refused, in file order, and a download of them all. */
export function ImportErrors({ id }: { id: string }) {
  const errors = useInfiniteQuery({
    queryKey: ['import-errors', id],
    queryFn: ({ pageParam }) => errorsOf(id, pageParam),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const [download, setDownload] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const rows = errors.data?.pages.flatMap((p) => p.data) ?? [];

  async function save() {
    setDownload({ busy: true });
    try {
      saveFile(await refusedRowsFile(id), `${id}-refused-rows.csv`);
      setDownload({ busy: false });
    } catch (error) {
      setDownload({ busy: false, error });
    }
  }

  return (
    <section aria-labelledby="refused-rows">
      <h3 id="refused-rows">Refused rows</h3>
      <button type="button" onClick={save} disabled={download.busy}>
        {download.busy ? 'Preparing…' : 'Download refused rows (CSV)'}
      </button>
      <Failure error={download.error ?? errors.error} />
      {errors.isPending && <Loading what="refused rows" />}
      {rows.length > 0 && (
        <Table columns={['Row', 'Line', 'Field', 'Why', 'As the file has it']}>
          {rows.map((e) => (
            <tr key={e.row}>
              <th scope="row">{e.row}</th>
              <td>{e.line}</td>
              <td>
                <code>{e.path}</code>
              </td>
              <td>
                {e.message} <span className="tag">{e.code}</span>
              </td>
              <td>
                <code>{e.rowText}</code>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {errors.hasNextPage && (
        <button
          type="button"
          onClick={() => errors.fetchNextPage()}
          disabled={errors.isFetchingNextPage}
        >
          More refused rows
        </button>
      )}
    </section>
  );
}
