// @ts-check
/**
 * A typedoc plugin: names each entry point's module by the import a user writes
 * (`packages/tracer/src/node.ts` → `@kiln/tracer/node`, `packages/kiln/src/index.ts` → `kiln`)
 * instead of its path (`tracer/src/node`). The subpath comes from the package's `exports` map,
 * so the reference shows exactly the specifiers that resolve.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Converter, ReflectionKind } from 'typedoc';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The module typedoc names `<dir>/src` or `<dir>/src/<path>` (paths relative to packages/, the
 * entry points' common root) → the specifier whose `kiln-source` condition points at its file.
 */
function specifierOf(moduleName) {
  const n = /^([^/]+)\/src(?:\/(.+))?$/.exec(moduleName);
  if (!n) return undefined;
  const m = [moduleName, n[1], `src/${n[2] ?? 'index'}.ts`];
  const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', m[1], 'package.json'), 'utf8'));
  for (const [key, conditions] of Object.entries(manifest.exports ?? {})) {
    if (conditions['kiln-source'] === `./${m[2]}`) return key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`;
  }
  return undefined;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      if (module.parent !== context.project) continue;
      const name = specifierOf(module.name);
      if (name) module.name = name;
    }
  });
}
