import { type Static, Type } from 'typebox';
import { Nullable } from '../schema.js';

/** An import job as the API shows it (docs/api.md, "Imports"). */
export const ImportJob = Type.Object({
  id: Type.String({ description: 'imp_…' }),
  status: Type.Union([
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('completed'),
    Type.Literal('failed'),
    Type.Literal('cancelled'),
  ]),
  format: Type.Union([Type.Literal('ndjson'), Type.Literal('csv')]),
  mode: Type.Union([
    Type.Literal('upsert'),
    Type.Literal('create_only'),
    Type.Literal('update_only'),
  ]),
  dryRun: Type.Boolean(),
  bytes: Type.Integer({ description: 'The size of the file' }),
  total: Nullable(Type.Integer({ description: 'Rows in the file, once known' })),
  processed: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  failed: Type.Integer(),
  rowsPerSecond: Nullable(Type.Number()),
  error: Nullable(Type.String({ description: 'Why a failed job stopped' })),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
});
export type ImportJob = Static<typeof ImportJob>;

export const ImportPage = Type.Object({
  data: Type.Array(ImportJob),
  nextCursor: Nullable(Type.String()),
});

export const ImportError = Type.Object({
  row: Type.Integer({ description: 'The row of the file, from 1 (a CSV header is not a row)' }),
  line: Type.Integer({ description: 'The line of the file it is on' }),
  code: Type.String({ description: 'The error code the upsert would answer' }),
  path: Type.String({ description: 'The JSON Pointer (NDJSON) or CSV column of the problem' }),
  message: Type.String(),
  rowText: Type.String({ description: 'The row as the file has it, cut at 1,000 characters' }),
});
export type ImportError = Static<typeof ImportError>;

export const ImportErrorPage = Type.Object({
  data: Type.Array(ImportError),
  nextCursor: Nullable(Type.String()),
});

export const ImportQuery = Type.Object(
  {
    mode: Type.Optional(
      Type.Union(
        [Type.Literal('upsert'), Type.Literal('create_only'), Type.Literal('update_only')],
        { default: 'upsert' },
      ),
    ),
    dryRun: Type.Optional(Type.Boolean({ default: false })),
    mapping: Type.Optional(
      Type.String({
        description:
          'CSV only: a JSON object from the file\'s headers to the import\'s columns, such as {"E-mail":"email","Points":"customFields.points"}; headers it leaves out are not imported',
      }),
    ),
    delimiter: Type.Optional(
      Type.Union([Type.Literal(','), Type.Literal(';')], {
        description: 'CSV only; by default the one the header line uses',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ImportQuery = Static<typeof ImportQuery>;
