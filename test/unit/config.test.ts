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
});
