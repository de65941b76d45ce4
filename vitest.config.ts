import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'console/test/**/*.test.ts'],
    // Each file opens its own database (an in-memory PGlite, or a fresh PostgreSQL
    // database when TEST_DATABASE_URL is set); PGlite start-up dominates, so allow it.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
