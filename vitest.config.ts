import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['kiln-source'] },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'benchmarks/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    pool: 'threads',
  },
});
