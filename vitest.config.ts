import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,devices,edge,cloud,scripts,test,bench}/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start brokers and databases; two cores are all we have.
    pool: 'forks',
    maxWorkers: 2,
  },
});
