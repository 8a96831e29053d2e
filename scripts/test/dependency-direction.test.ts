import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_KILN_DEPENDENCIES,
  checkDependencyDirection,
  collectPackageFacts,
  importsOf,
  kilnPackageOf,
  type PackageFacts,
} from '../lib/dependency-direction.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function pkg(name: string, declared: string[], imports: string[] = []): PackageFacts {
  return {
    name,
    declared: declared.map((d) => ({ name: `@kiln/${d}`, field: 'dependencies' })),
    imports: imports.map((specifier, i) => ({ file: `packages/${name}/src/index.ts`, line: i + 1, specifier })),
  };
}

describe('kilnPackageOf', () => {
  it('maps @kiln specifiers, with or without subpaths, to the short package name', () => {
    expect(kilnPackageOf('@kiln/core')).toBe('core');
    expect(kilnPackageOf('@kiln/backend-cpu/kernels')).toBe('backend-cpu');
    expect(kilnPackageOf('node:fs')).toBeUndefined();
    expect(kilnPackageOf('@kilnx/core')).toBeUndefined();
    expect(kilnPackageOf('./core.js')).toBeUndefined();
  });
});

describe('importsOf', () => {
  it('finds every kind of import and export, with its line', () => {
    const src = [
      `import { a } from '@kiln/a';`,
      `import type { B } from "@kiln/b";`,
      `export * from '@kiln/c';`,
      `export { d } from '@kiln/d/sub';`,
      `import '@kiln/e';`,
      `const f = await import('@kiln/f');`,
      `type G = typeof import('@kiln/g');`,
      `import h = require('@kiln/h');`,
      `export type { I } from '@kiln/i';`,
    ].join('\n');
    expect(importsOf(src)).toEqual([
      { specifier: '@kiln/a', line: 1 },
      { specifier: '@kiln/b', line: 2 },
      { specifier: '@kiln/c', line: 3 },
      { specifier: '@kiln/d/sub', line: 4 },
      { specifier: '@kiln/e', line: 5 },
      { specifier: '@kiln/f', line: 6 },
      { specifier: '@kiln/g', line: 7 },
      { specifier: '@kiln/h', line: 8 },
      { specifier: '@kiln/i', line: 9 },
    ]);
  });

  it('ignores import-like text in comments, strings and after regex literals with quotes', () => {
    const src = [
      `// import { x } from '@kiln/in-line-comment';`,
      `/** @example import { y } from '@kiln/in-doc-comment'; */`,
      `const s = "import { z } from '@kiln/in-string'";`,
      `const re = /'/g; import { real } from '@kiln/real';`,
    ].join('\n');
    expect(importsOf(src).map((i) => i.specifier)).toEqual(['@kiln/real']);
  });
});

describe('checkDependencyDirection (fake packages)', () => {
  const allowed = { base: [], mid: ['base'], top: ['base', 'mid'] };

  it('accepts dependencies and imports that follow the direction', () => {
    const facts = [pkg('base', []), pkg('mid', ['base'], ['@kiln/base']), pkg('top', ['base', 'mid'], ['@kiln/mid', '@kiln/base/sub', 'node:fs', './local.js'])];
    expect(checkDependencyDirection(facts, allowed)).toEqual([]);
  });

  it('rejects a package.json dependency against the direction', () => {
    const violations = checkDependencyDirection([pkg('base', ['top'])], allowed);
    expect(violations.map((v) => v.kind)).toEqual(['declared-against-direction']);
    expect(violations[0]!.message).toBe('@kiln/base lists @kiln/top in package.json dependencies, but it may depend on no @kiln package');
  });

  it('rejects a source import against the direction, naming file and line', () => {
    const violations = checkDependencyDirection([pkg('mid', ['base'], ['@kiln/base', '@kiln/top'])], allowed);
    expect(violations.map((v) => v.kind)).toEqual(['import-against-direction']);
    expect(violations[0]!.message).toBe("packages/mid/src/index.ts:2 imports '@kiln/top', but @kiln/mid may depend only on @kiln/base");
  });

  it('rejects type-only and dynamic imports the same way (they are found by importsOf)', () => {
    const imports = importsOf(`import type { T } from '@kiln/top';\nconst m = import('@kiln/top');`).map((i) => i.specifier);
    const violations = checkDependencyDirection([pkg('base', [], imports)], allowed);
    expect(violations.map((v) => v.kind)).toEqual(['import-against-direction', 'import-against-direction']);
  });

  it('rejects an allowed import that package.json does not declare', () => {
    const violations = checkDependencyDirection([pkg('top', ['base'], ['@kiln/mid'])], allowed);
    expect(violations.map((v) => v.kind)).toEqual(['import-undeclared']);
    expect(violations[0]!.message).toContain("imports '@kiln/mid', which @kiln/top's package.json does not declare");
  });

  it('rejects a package that imports itself by name', () => {
    const violations = checkDependencyDirection([pkg('mid', ['base'], ['@kiln/mid'])], allowed);
    expect(violations.map((v) => v.kind)).toEqual(['self-import']);
  });

  it('rejects a package missing from the table', () => {
    const violations = checkDependencyDirection([pkg('newcomer', [])], allowed);
    expect(violations.map((v) => v.kind)).toEqual(['unknown-package']);
  });

  it('checks every dependency field it is given', () => {
    const facts: PackageFacts = { name: 'base', declared: [{ name: '@kiln/mid', field: 'devDependencies' }], imports: [] };
    expect(checkDependencyDirection([facts], allowed)[0]!.message).toContain('in package.json devDependencies');
  });
});

describe('the repository', () => {
  const facts = collectPackageFacts(ROOT);

  it('finds the workspace packages', () => {
    expect(facts.map((f) => f.name).sort()).toEqual(Object.keys(ALLOWED_KILN_DEPENDENCIES).sort());
  });

  it('follows the dependency direction in package.json and in every src import', () => {
    expect(checkDependencyDirection(facts).map((v) => v.message)).toEqual([]);
  });
});
