import { useQuery } from '@tanstack/react-query';
import { api } from '../api';
import {
  type FieldType,
  type Leaf,
  type Node,
  newGroup,
  newLeaf,
  operators,
  opLabels,
  relativeOperators,
  takesNoValue,
} from '../filter';
import { FieldErrors } from '../ui';

interface EditorProps {
  fields: { name: string; type: FieldType }[];
  typeOf: (field: string) => FieldType | undefined;
  /** Each node's path in the filter sent, to show the API's errors beside it. */
  paths: Map<number, string>;
  error: unknown;
  onChange: (key: number, change: (n: Node) => Node | null) => void;
}

/** The deepest group the builder nests (the store's segmentFilterDepth allows 4 by default). */
const MAX_DEPTH = 3;

/** A group (all / any of its conditions) or one condition, with its controls. */
export function ConditionEditor(
  props: EditorProps & { node: Node; label: string; depth: number; number?: string },
) {
  const { node, label, depth, onChange, fields } = props;
  if (node.kind === 'leaf')
    return <LeafEditor {...props} leaf={node} number={props.number ?? '1'} />;
  const first = fields[0];
  const prefix = props.number ? `${props.number}.` : '';
  return (
    <fieldset className="group">
      <legend>
        <label htmlFor={`match-${node.key}`} className="inline-label">
          Customers matching{props.number ? ` (group ${props.number})` : ''}
        </label>{' '}
        <select
          id={`match-${node.key}`}
          value={node.match}
          onChange={(e) =>
            onChange(node.key, (n) => ({ ...n, match: e.target.value as 'and' | 'or' }))
          }
        >
          <option value="and">all of these</option>
          <option value="or">any of these</option>
        </select>
      </legend>
      {node.items.length === 0 && <p className="muted">No condition yet: {label}.</p>}
      <ol className="conditions">
        {node.items.map((item, i) => (
          <li key={item.key}>
            <ConditionEditor
              {...props}
              node={item}
              depth={depth + 1}
              number={`${prefix}${i + 1}`}
            />
          </li>
        ))}
      </ol>
      <div className="actions">
        <button
          type="button"
          disabled={!first}
          onClick={() =>
            first &&
            onChange(node.key, (n) =>
              n.kind === 'group'
                ? { ...n, items: [...n.items, newLeaf(first.name, first.type)] }
                : n,
            )
          }
        >
          Add condition{props.number ? ` to group ${props.number}` : ''}
        </button>
        {depth < MAX_DEPTH && first && (
          <button
            type="button"
            onClick={() =>
              onChange(node.key, (n) =>
                n.kind === 'group'
                  ? {
                      ...n,
                      items: [
                        ...n.items,
                        newGroup(n.match === 'and' ? 'or' : 'and', [
                          newLeaf(first.name, first.type),
                        ]),
                      ],
                    }
                  : n,
              )
            }
          >
            Add group{props.number ? ` to group ${props.number}` : ''}
          </button>
        )}
        {props.number && (
          <button type="button" onClick={() => onChange(node.key, () => null)}>
            Remove group {props.number}
          </button>
        )}
      </div>
    </fieldset>
  );
}

function LeafEditor({
  leaf,
  number,
  fields,
  typeOf,
  paths,
  error,
  onChange,
}: EditorProps & { leaf: Leaf; number: string }) {
  const type = typeOf(leaf.field) ?? 'STRING';
  const path = paths.get(leaf.key) ?? '/filter';
  const id = `c${leaf.key}`;
  const set = (patch: Partial<Leaf>) => onChange(leaf.key, (n) => ({ ...n, ...patch }) as Leaf);
  const custom = leaf.field.startsWith('customFields.') ? leaf.field.slice(13) : undefined;
  // STRING values are offered from the options the store tracks for the field.
  const options = useQuery({
    queryKey: ['custom-field-options', custom],
    queryFn: () =>
      api<{ options: string[] }>(
        `/custom-fields/${encodeURIComponent(custom ?? '')}/options?limit=200`,
      ),
    enabled: custom !== undefined && type === 'STRING',
  });
  const units = relativeOperators[leaf.op];
  const input = (which: 'value' | 'to', label: string) => (
    <span className="control">
      <label htmlFor={`${id}-${which}`}>{label}</label>
      {type === 'BOOLEAN' ? (
        <select
          id={`${id}-${which}`}
          value={leaf[which] || 'true'}
          onChange={(e) => set({ [which]: e.target.value })}
        >
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : (
        <input
          id={`${id}-${which}`}
          type={type === 'DATE' && !units ? 'datetime-local' : 'text'}
          inputMode={type === 'NUMBER' || units ? 'decimal' : undefined}
          list={options.data ? `${id}-options` : undefined}
          value={leaf[which]}
          onChange={(e) => set({ [which]: e.target.value })}
          aria-describedby={`${id}-value-error`}
          autoComplete="off"
        />
      )}
    </span>
  );
  return (
    <div className="condition">
      <span className="control">
        <label htmlFor={`${id}-field`}>Field of condition {number}</label>
        <select
          id={`${id}-field`}
          value={leaf.field}
          aria-describedby={`${id}-field-error`}
          onChange={(e) => {
            const next = typeOf(e.target.value) ?? 'STRING';
            set(
              next === type
                ? { field: e.target.value }
                : { ...newLeaf(e.target.value, next), key: leaf.key },
            );
          }}
        >
          {fields.map((f) => (
            <option key={f.name} value={f.name}>
              {f.name}
            </option>
          ))}
        </select>
      </span>
      <span className="control">
        <label htmlFor={`${id}-op`}>Operator of condition {number}</label>
        <select id={`${id}-op`} value={leaf.op} onChange={(e) => set({ op: e.target.value })}>
          {operators[type].map((op) => (
            <option key={op} value={op}>
              {opLabels[op] ?? op}
            </option>
          ))}
        </select>
      </span>
      {!takesNoValue(leaf.op) &&
        input(
          'value',
          units
            ? `Amount of condition ${number}`
            : leaf.op === 'in' || leaf.op === 'not_in'
              ? `Values of condition ${number}, separated by commas`
              : leaf.op === 'between'
                ? `From, condition ${number}`
                : `Value of condition ${number}`,
        )}
      {leaf.op === 'between' && input('to', `To, condition ${number}`)}
      {units && (
        <span className="control">
          <label htmlFor={`${id}-unit`}>Unit of condition {number}</label>
          <select
            id={`${id}-unit`}
            value={leaf.unit}
            onChange={(e) => set({ unit: e.target.value })}
          >
            {units.map((u) => (
              <option key={u} value={u}>
                {u}s
              </option>
            ))}
          </select>
        </span>
      )}
      <button type="button" onClick={() => onChange(leaf.key, () => null)}>
        Remove condition {number}
      </button>
      {options.data && (
        <datalist id={`${id}-options`}>
          {options.data.options.map((o) => (
            <option key={o} value={o} />
          ))}
        </datalist>
      )}
      <FieldErrors error={error} path={`${path}/field`} id={`${id}-field-error`} />
      <FieldErrors error={error} path={`${path}/op`} id={`${id}-op-error`} />
      <FieldErrors error={error} path={`${path}/value`} id={`${id}-value-error`} />
    </div>
  );
}
