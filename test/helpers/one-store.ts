import { CompiledQuery } from 'kysely';
import type { DB } from '../../src/core/db/database.js';
import { tables } from '../../src/core/db/distribution.js';

/**
 * Whether a statement reads one store: its plan, made with the parameters it was sent
 * with, scans each distributed table (db/distribution.ts) only under a condition on the
 * table's distribution column, and names at most one store. On Citus such a statement is
 * a router query, sent whole to the node of that store; one that is not would fan out to
 * every shard. What it finds wrong, or nothing.
 */
export async function storesRead(db: DB, text: string, parameters: readonly unknown[]) {
  const { rows } = await db.executeQuery<{ 'QUERY PLAN': unknown }>(
    CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${text}`, [...parameters]),
  );
  const raw = rows[0]?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
  const wrong: string[] = [];
  const visit = (node: PlanNode) => {
    const table = node['Relation Name'];
    const placement = table === undefined ? undefined : tables[table];
    if (placement?.kind === 'distributed' && node['Node Type'] !== 'ModifyTable') {
      const conditions = ['Index Cond', 'Filter', 'Recheck Cond', 'TID Cond']
        .map((k) => node[k])
        .filter((c): c is string => typeof c === 'string')
        .join(' AND ');
      if (!new RegExp(`\\b${placement.column} = (?!ANY)`).test(conditions)) {
        wrong.push(`${node['Node Type']} on ${table} without ${placement.column} = …`);
      }
    }
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(plan[0].Plan);
  const named = new Set(JSON.stringify(plan).match(/sto_[0-9A-Z]{26}/g) ?? []);
  if (named.size > 1) wrong.push(`names ${named.size} stores: ${[...named].join(', ')}`);
  return wrong;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}
