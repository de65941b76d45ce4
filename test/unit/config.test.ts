import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.js';

describe('configuration', () => {
  it('has defaults that serve on the embedded database', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3156,
      host: '127.0.0.1',
      dataDir: './data',
      databaseUrl: undefined,
    });
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        CLIENTELE_ADMIN_TOKEN: 'short',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'CLIENTELE_ADMIN_TOKEN'])
        expect(message).toContain(name);
    }
  });

  it('.env.example and the README list every variable read here, each at its default', () => {
    const text = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
    const read = [
      ...text('src/core/config.ts').matchAll(
        /env\.([A-Z][A-Z0-9_]*)|(?:integer|flag)\('([A-Z][A-Z0-9_]*)'/g,
      ),
    ].map((m) => (m[1] ?? m[2])!);
    const names = [...new Set(read)].sort();

    const example = parseEnv(text('.env.example'));
    expect(Object.keys(example).sort()).toEqual(names);
    expect(loadConfig(example)).toEqual(loadConfig({}));

    // | `PORT` | `3156` | …, where a default of none is an empty value in .env.example.
    const rows = [...text('README.md').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (none|`[^`]*`) \|/gm)];
    const readme = Object.fromEntries(
      rows.map(([, name, value]) => [name, value === 'none' ? '' : value!.slice(1, -1)]),
    );
    expect(readme).toEqual(example);
  });
});
