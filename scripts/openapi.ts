/**
 * `npm run openapi`: writes docs/openapi.json, the OpenAPI document the routes make (what
 * GET /openapi.json serves), with keys in a stable order. test/http/openapi.test.ts makes
 * it the same way and fails while the committed file differs, so regenerate and commit it
 * whenever a route's schema changes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Clientele } from '../src/core/clientele.js';
import { buildApp } from '../src/http/app.js';

export const OPENAPI_PATH = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

/** Objects with their keys sorted, at every depth; arrays keep their order. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  }
  return sorted;
}

/** The document as the file holds it: two-space indents, sorted keys, a final newline. */
export function renderOpenApi(document: unknown): string {
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`;
}

/** Builds the app without listening, on an in-memory PGlite, and renders its document. */
export async function openApiDocument(): Promise<string> {
  const clientele = await Clientele.open({ dataDir: 'memory://', migrate: true });
  try {
    const app = await buildApp({ clientele });
    try {
      await app.ready();
      return renderOpenApi(app.swagger());
    } finally {
      await app.close();
    }
  } finally {
    await clientele.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OPENAPI_PATH, await openApiDocument());
  console.log(`Wrote ${OPENAPI_PATH}`);
}
