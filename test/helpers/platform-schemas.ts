import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import AjvModule, { type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';

// ajv and ajv-formats ship CommonJS with a default export that ESM sees one level down.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/**
 * The platforms' own published OpenAPI documents, as validators of what a dialect answers:
 * each answer is checked against the schema the document gives for its path, method and
 * status (an undocumented error status against the platform's error schema).
 */

/** One response as the client got it. */
export interface Answer {
  method: string;
  url: string;
  status: number;
  contentType: string;
  body: string;
}

type Json = Record<string, unknown>;

/**
 * OpenAPI 3.0's `nullable: true` is not JSON Schema (ajv refuses it beside `allOf`): it
 * becomes "this, or null". 3.1 documents write `type: [string, null]` already.
 */
function fromOpenApi30(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fromOpenApi30);
  if (typeof node !== 'object' || node === null) return node;
  const { nullable, ...rest } = node as Json;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, fromOpenApi30(v)]));
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

const pointer = (...keys: string[]) =>
  keys.map((k) => `/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

export class PlatformSpec {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { path: string; pattern: RegExp }[];

  /**
   * `mount` is where the dialect serves what the document's server serves (its paths
   * relative to the document's server URL), `errorSchema` the schema of its errors.
   */
  constructor(
    private readonly name: string,
    private readonly doc: Json,
    private readonly mount: string,
    private readonly errorSchema: string,
  ) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc, name);
    this.templates = Object.keys(doc.paths as Json)
      .map((path) => ({
        path,
        pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
        literal: path.replace(/\{[^}]+\}/g, '').length,
      }))
      // A literal segment wins over a parameter (`/customers/importCSV` over `/customers/{id}`).
      .sort((a, b) => b.literal - a.literal);
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${this.name}#${ref}` });
      this.compiled.set(ref, validate);
    }
    return validate;
  }

  /** A schema of the document's components, by name. */
  validate(schema: string, value: unknown): string[] {
    const validate = this.validator(pointer('components', 'schemas', schema));
    return validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  }

  /** The example request bodies the document gives for an operation, by name. */
  requestExamples(path: string, method: string): Record<string, unknown> {
    const operation = (this.doc.paths as Record<string, Json>)[path]?.[method] as
      | { requestBody?: { content?: Record<string, { examples?: Record<string, Json> }> } }
      | undefined;
    const examples = operation?.requestBody?.content?.['application/json']?.examples ?? {};
    return Object.fromEntries(Object.entries(examples).map(([name, e]) => [name, e.value]));
  }

  /** What is wrong with an answer, by the document: nothing when it conforms. */
  check(answer: Answer): string[] {
    const where = `${answer.method} ${answer.url} → ${answer.status}`;
    const path = answer.url.split('?')[0]?.slice(this.mount.length) ?? '';
    const template = this.templates.find((t) => t.pattern.test(path));
    if (!template) return [`${where}: no such path in ${this.name}'s document`];
    const operation = (this.doc.paths as Record<string, Json>)[template.path]?.[
      answer.method.toLowerCase()
    ] as { responses: Record<string, { content?: Record<string, unknown> }> } | undefined;
    if (!operation) return [`${where}: no such operation in ${this.name}'s document`];
    const documented = operation.responses[String(answer.status)]
      ? String(answer.status)
      : undefined;
    const key = documented ?? (operation.responses.default ? 'default' : undefined);
    let ref: string;
    if (key === undefined) {
      if (answer.status < 400) return [`${where}: status not documented`];
      ref = pointer('components', 'schemas', this.errorSchema);
    } else {
      const content = operation.responses[key]?.content;
      if (!content || Object.keys(content).length === 0) {
        return answer.body === '' ? [] : [`${where}: documented without a body, got one`];
      }
      const mediaType = Object.keys(content).find((m) => answer.contentType.startsWith(m));
      if (!mediaType) {
        return [`${where}: content type ${answer.contentType}, documented ${Object.keys(content)}`];
      }
      ref = pointer('paths', template.path, answer.method.toLowerCase(), 'responses', key);
      ref += pointer('content', mediaType, 'schema');
    }
    const validate = this.validator(ref);
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return [`${where}: the body is not JSON`];
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (e) => `${where}: ${e.instancePath || 'body'} ${e.message} (${JSON.stringify(e.params)})`,
    );
  }
}

const root = join(import.meta.dirname, '..', '..');

export function voucherifySpec(): PlatformSpec {
  const file = join(root, 'test/vendor/voucherify/customers.json');
  const doc = fromOpenApi30(JSON.parse(readFileSync(file, 'utf8'))) as Json;
  return new PlatformSpec('voucherify', doc, '/compat/voucherify', 'Error');
}

export function redoSpec(): PlatformSpec {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@redotech/redo-api-schema/openapi.yaml');
  const doc = parse(readFileSync(file, 'utf8')) as Json;
  // Its server is https://api.getredo.com/v2.2: its paths start after /v2.2.
  return new PlatformSpec('redo', doc, '/compat/redo/v2.2', 'error.schema');
}

/**
 * Every answer the app gives under `prefix`, kept for checking. Install before the app
 * is ready (Fastify takes no hooks after).
 */
export function recordAnswers(app: FastifyInstance, prefix: string): Answer[] {
  const answers: Answer[] = [];
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith(prefix)) {
      answers.push({
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        contentType: String(reply.getHeader('content-type') ?? ''),
        body: typeof payload === 'string' ? payload : payload == null ? '' : String(payload),
      });
    }
    done(null, payload);
  });
  return answers;
}
