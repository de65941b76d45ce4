import { ClienteleError, type FieldProblem } from './errors.js';

/** Fields a client may read but never write: refused by name. */
const readOnlyFields = new Set([
  'storeId',
  'version',
  'createdAt',
  'updatedAt',
  'displayName',
  'seq',
]);

export interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** How a problem's path begins for each part of a request: a body's is a bare JSON Pointer. */
const partPaths: Record<string, string> = {
  querystring: '/query',
  params: '/path',
  headers: '/header',
};

export function describeValidation(
  errors: AjvError[],
  context: string | undefined,
): FieldProblem[] {
  const where = (context !== undefined && partPaths[context]) || '';
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const e of errors) {
    let path = where + e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const name = String(e.params.additionalProperty);
      path = `${path}/${name}`;
      message = readOnlyFields.has(name)
        ? 'is read-only and cannot be written'
        : 'is not a field of this object';
    } else if (e.keyword === 'required') {
      path = `${path}/${String(e.params.missingProperty)}`;
      message = 'is required';
    } else if (e.keyword === 'type') {
      message = `must be of type ${String(e.params.type).replaceAll(',', ' or ')}`;
    } else if (e.keyword === 'maxProperties') {
      message = `at most ${String(e.params.limit)} entries per request`;
    }
    const key = `${path}\u0000${message}`;
    if (!seen.has(key)) problems.push({ path, message });
    seen.add(key);
  }
  return problems;
}

/** Schema failures as one error: limit_exceeded when a limit was passed, else validation_failed. */
export function validationError(errors: AjvError[], context?: string): ClienteleError {
  const problems = describeValidation(errors, context);
  const limit = errors.some((v) => v.keyword === 'maxProperties' || v.keyword === 'maxItems');
  return new ClienteleError(
    limit ? 'limit_exceeded' : 'validation_failed',
    problems.map((p) => `${p.path || 'body'}: ${p.message}`).join('; '),
    problems,
  );
}
