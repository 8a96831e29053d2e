import { defineConfig } from 'vitest/config';

// Tests run on each package's src/ through the `kiln-source` export condition: no build needed.
const conditions = ['kiln-source', 'import', 'module', 'node', 'default'];

// The CPU backend's golden and matmul suites run again pinned to one thread and to two, so the
// WebAssembly kernels are checked single- and multi-threaded whatever the machine's core count
// (the default project uses KILN_THREADS or the cores).
const CPU_THREAD_SUITES = [
  'packages/backend-cpu/test/{nn,elementwise,reduce,shaping,creation,conv-grad,wasm-matmul,wasm-matmul-threads,threads-pool}.test.ts',
  'packages/runtime/test/fusion-transposed.test.ts',
];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['kiln-source'] } },
  test: {
    pool: 'threads',
    // Training and fuzz tests do real work; on a loaded 2-core CI machine 5 s is too tight.
    testTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'default', include: ['packages/*/test/**/*.test.ts', 'benchmarks/test/**/*.test.ts', 'scripts/test/**/*.test.ts'] },
      },
      ...[1, 2].map((threads) => ({
        extends: true as const,
        test: { name: `cpu-threads-${threads}`, include: CPU_THREAD_SUITES, env: { KILN_THREADS: String(threads) } },
      })),
    ],
  },
});
