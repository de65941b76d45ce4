import { type FieldProblem, fail } from './errors.js';

/**
 * Text no part of a request may carry: NUL (U+0000), which PostgreSQL cannot hold in
 * text or JSON, and a lone UTF-16 surrogate, which is no character at all (JSON's `\ud800`
 * escape lets one through). Without this check they reached the database and failed there
 * as a 500. Matched on code units (no `u` flag), so that a lone surrogate is seen.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with a text, or undefined when it can be stored. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) {
    return 'must not contain an unpaired UTF-16 surrogate (U+D800 to U+DFFF), which is not a character';
  }
  return undefined;
}

/** Refuses a text that cannot be stored, naming where it is (`/header/authorization`, say). */
export function checkText(text: string, path: string): void {
  const problem = textProblem(text);
  if (problem) throw fail.field(path, problem);
}

/** An RFC 6901 token: `~` and `/` escaped. */
const token = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * The first unstorable text in a value (its strings and its keys), as a problem at its
 * JSON Pointer under `base`. A bad key is reported at the object that holds it, so that
 * the answer does not echo the bad text back. Iterative: a body's depth is bounded by the
 * JSON parser, but a stack of our own costs nothing.
 */
export function findBadText(value: unknown, base: string): FieldProblem | undefined {
  const stack: { node: unknown; path: string }[] = [{ node: value, path: base }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, path } = item;
    if (typeof node === 'string') {
      const message = textProblem(node);
      if (message) return { path, message };
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        const message = textProblem(key);
        if (message) return { path, message: `has a key that ${message}` };
        stack.push({ node: child, path: `${path}/${token(key)}` });
      }
    }
  }
  return undefined;
}
