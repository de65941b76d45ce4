import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Clientele } from '../../../core/clientele.js';
import { ClienteleError } from '../../../core/errors.js';
import type { ImportFormat } from '../../../core/imports/imports.js';
import {
  ImportErrorPage,
  ImportJob,
  ImportPage,
  ImportQuery,
} from '../../../core/imports/schema.js';
import { requireStoreKey } from '../../plugins/auth.js';
import { PageQuery, Problem, StoreIdParams, storeRouteErrors } from '../../schemas/common.js';

const security = [{ apiKey: [] }];
const tags = ['imports'];
const ImportParams = Type.Object({ storeId: Type.String(), importId: Type.String() });
const base = '/v1/stores/:storeId/imports';

/** The file's media types, and the format each is read as. */
const formats: Record<string, ImportFormat> = {
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'text/csv': 'csv',
};

export const importRoutes: FastifyPluginAsyncTypebox<{ clientele: Clientele }> = async (
  app,
  { clientele },
) => {
  app.addHook('preHandler', requireStoreKey(clientele));
  // The file is left unread by the parser: the handler streams it into the database.
  app.addContentTypeParser(Object.keys(formats), (_request, _payload, done) =>
    done(null, undefined),
  );

  app.post(
    base,
    {
      // A retry sends the file again: the body is never held, so never hashed for a key.
      config: {
        idempotencyKey: false,
        fileBody: {
          'application/x-ndjson':
            '{"email":"jane@example.com","firstName":"Jane","customFields":{"tier":"gold"}}\n{"email":"john@example.com","phoneNumber":"+12025550143"}\n',
          'text/csv':
            'email,firstName,phoneNumber,customFields.tier\njane@example.com,Jane,,gold\njohn@example.com,,+1 202 555 0143,\n',
        },
      },
      schema: {
        tags,
        operationId: 'createImport',
        summary: 'Import customers from a file (NDJSON or CSV) streamed as the body',
        description:
          'The body is the file: application/x-ndjson (one native upsert body a line) or text/csv (a header row of column names). The job is queued and runs in the background; watch it with GET …/imports/{importId}.',
        security,
        params: StoreIdParams,
        querystring: ImportQuery,
        response: { 202: ImportJob, 413: Problem, 415: Problem, ...storeRouteErrors },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const format = type === undefined ? undefined : formats[type];
      if (!format) {
        throw new ClienteleError(
          'unsupported_media_type',
          'Send the file as application/x-ndjson or text/csv.',
        );
      }
      const length = Number(request.headers['content-length']);
      const job = await clientele.imports.create(
        { storeId: request.caller.storeId, keyId: request.caller.keyId },
        format,
        request.query,
        request.raw,
        Number.isFinite(length) ? length : undefined,
      );
      reply.code(202).header('location', `/v1/stores/${request.caller.storeId}/imports/${job.id}`);
      return job;
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        operationId: 'listImports',
        summary: "The store's imports, newest first",
        security,
        params: StoreIdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: ImportPage, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.imports.list(request.caller.storeId, {
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      }),
  );

  app.get(
    `${base}/:importId`,
    {
      schema: {
        tags,
        operationId: 'getImport',
        summary: 'An import: its status and counts',
        security,
        params: ImportParams,
        response: { 200: ImportJob, ...storeRouteErrors },
      },
    },
    async (request) => clientele.imports.get(request.caller.storeId, request.params.importId),
  );

  app.post(
    `${base}/:importId/cancel`,
    {
      // Cancelling twice answers the same: nothing to replay.
      config: { idempotencyKey: false },
      schema: {
        tags,
        operationId: 'cancelImport',
        summary: 'Stop an import (rows applied so far stay)',
        security,
        params: ImportParams,
        response: { 200: ImportJob, ...storeRouteErrors },
      },
    },
    async (request) => clientele.imports.cancel(request.caller.storeId, request.params.importId),
  );

  app.get(
    `${base}/:importId/errors`,
    {
      schema: {
        tags,
        operationId: 'listImportErrors',
        summary: 'The rows an import refused, in file order',
        security,
        params: ImportParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            cursor: PageQuery.cursor,
          },
          { additionalProperties: false },
        ),
        response: { 200: ImportErrorPage, ...storeRouteErrors },
      },
    },
    async (request) =>
      clientele.imports.errors(request.caller.storeId, request.params.importId, {
        limit: request.query.limit ?? 100,
        cursor: request.query.cursor,
      }),
  );

  app.get(
    '/v1/stores/:storeId/customers/export',
    {
      schema: {
        tags: ['customers'],
        operationId: 'exportCustomers',
        summary: 'Every customer of the store, streamed in the form the import reads back',
        description:
          'NDJSON: one native upsert body a line. CSV: a header row of the import\'s column names, then a customer a line (several phone numbers separated by "|"; identifiers, metadata, channels and loyalty as JSON).',
        security,
        params: StoreIdParams,
        querystring: Type.Object(
          {
            format: Type.Optional(
              Type.Union([Type.Literal('ndjson'), Type.Literal('csv')], { default: 'ndjson' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'The customers, streamed',
            content: {
              'application/x-ndjson': { schema: { type: 'string' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...storeRouteErrors,
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'ndjson';
      const text = clientele.imports.export(request.caller.storeId, format);
      reply
        .header(
          'content-type',
          format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        )
        .header(
          'content-disposition',
          `attachment; filename="customers-${request.caller.storeId}.${format}"`,
        );
      // A stream, which the declared reply (text, for the reference) does not type.
      return reply.send(Readable.from(text) as unknown as string);
    },
  );
};
