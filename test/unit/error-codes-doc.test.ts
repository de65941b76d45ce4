import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { errorCodes } from '../../src/core/errors.js';

it("docs/api.md's error table lists every code, at its status, and no other", () => {
  const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('| status | code |'), doc.indexOf('## Limits'));
  const documented: Record<string, number> = {};
  for (const [, status, cell] of table.matchAll(/^\| (\d{3}) \| (.*) \|$/gm)) {
    for (const [, code] of cell!.matchAll(/`([a-z_]+)`/g)) {
      expect(documented, `${code} is in the table twice`).not.toHaveProperty(code!);
      documented[code!] = Number(status);
    }
  }
  expect(documented).toEqual(errorCodes);
});
