import { defineConfig } from 'vitest/config';

// Tests run on each package's src/ through the `kiln-source` export condition: no build needed.
const conditions = ['kiln-source', 'import', 'module', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['kiln-source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'benchmarks/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    pool: 'threads',
    // Training and fuzz tests do real work; on a loaded 2-core CI machine 5 s is too tight.
    testTimeout: 60_000,
  },
});
