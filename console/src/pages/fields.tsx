import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api';
import type { CustomField } from '../types';
import { Empty, Failure, Loading, Table, when } from '../ui';

/** The store's custom field declarations: each one's type, and a STRING field's options. */
export function FieldsPage() {
  const fields = useQuery({
    queryKey: ['custom-fields'],
    queryFn: () => api<{ data: CustomField[] }>('/custom-fields'),
  });
  const [open, setOpen] = useState<string>();
  const all = fields.data?.data ?? [];
  return (
    <main id="main">
      <h1>Custom fields</h1>
      <p className="muted">
        A field is declared by the first value a customer is given for it; that value's type is the
        field's for good.
      </p>
      <Failure error={fields.error} />
      {fields.isPending && <Loading what="custom fields" />}
      {fields.isSuccess && all.length === 0 && (
        <Empty>No custom field yet: upsert a customer with customFields to declare one.</Empty>
      )}
      {all.length > 0 && (
        <Table columns={['Name', 'Type', 'Options tracked', 'Declared']}>
          {all.map((f) => (
            <tr key={f.name}>
              <th scope="row">{f.name}</th>
              <td>
                <span className="tag">{f.type}</span>
              </td>
              <td>
                {f.type === 'STRING' ? (
                  <button
                    type="button"
                    aria-expanded={open === f.name}
                    aria-controls={`options-${f.name}`}
                    onClick={() => setOpen(open === f.name ? undefined : f.name)}
                  >
                    {f.optionCount.toLocaleString()}
                    {f.optionsTruncated ? '+ (limit reached)' : ''} options
                  </button>
                ) : (
                  '—'
                )}
              </td>
              <td>{when(f.createdAt)}</td>
            </tr>
          ))}
        </Table>
      )}
      {open && <Options name={open} />}
    </main>
  );
}

function Options({ name }: { name: string }) {
  const options = useQuery({
    queryKey: ['custom-field-options', name],
    queryFn: () =>
      api<{ options: string[]; optionsTruncated: boolean }>(
        `/custom-fields/${encodeURIComponent(name)}/options?limit=200`,
      ),
  });
  const all = options.data?.options ?? [];
  return (
    <section id={`options-${name}`} aria-labelledby="options-title">
      <h2 id="options-title">Options of {name}</h2>
      <Failure error={options.error} />
      {options.isPending && <Loading what="options" />}
      {options.isSuccess && all.length === 0 && <Empty>No option tracked.</Empty>}
      <ul className="chips">
        {all.map((o) => (
          <li key={o}>{o}</li>
        ))}
      </ul>
    </section>
  );
}
