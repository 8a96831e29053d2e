#!/usr/bin/env node
// The `kiln` command. Runs the built CLI (`pnpm run build` first); from a checkout without a
// build, use `pnpm exec tsx --conditions=kiln-source packages/cli/src/main.ts` instead.
import('../dist/main.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/main.js')) {
    process.stderr.write('kiln: the CLI is not built; run `pnpm run build` in the repository first\n');
    process.exit(70);
  }
  throw e;
});
