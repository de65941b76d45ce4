import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'console/test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Most files spend their time waiting on a database or a child process rather than
    // computing, so run more of them at once than vitest's default of one fewer than the
    // cores (which is one file at a time on a two-core machine).
    maxWorkers: Math.max(3, availableParallelism() - 1),
    // Each file opens its own database (an in-memory PGlite, or a fresh PostgreSQL
    // database when TEST_DATABASE_URL is set); PGlite start-up dominates, so allow it.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
