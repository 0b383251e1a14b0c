import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.spec.ts', 'src/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files share one PostgreSQL server but each uses its own schema, so they may run in parallel.
    pool: 'forks',
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
