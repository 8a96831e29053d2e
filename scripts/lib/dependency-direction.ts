/**
 * The architecture's dependency direction between `@kiln/*` packages, and a check of it
 * against both what packages declare (package.json) and what their sources import.
 *
 * `checkDependencyDirection` is pure (facts in, violations out); `collectPackageFacts` reads
 * the repository. scripts/test/dependency-direction.test.ts runs both.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Which `@kiln/*` packages each workspace package may depend on (short names). Keep in step
 * with the package table in ARCHITECTURE.md: backends never import eager or the tracer, the
 * serializer never runs anything, and nothing imports the tracer.
 */
export const ALLOWED_KILN_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  core: [],
  'backend-cpu': ['core'],
  'backend-webgpu': ['core'],
  serializer: ['core'],
  runtime: ['core', 'serializer'],
  eager: ['core', 'backend-cpu'],
  nn: ['core', 'eager', 'serializer'],
  tracer: ['core', 'eager', 'runtime', 'serializer', 'backend-cpu'],
  // The kiln command (private): its commands use the deployer's set (core, serializer, runtime, a
  // backend); `kiln demo` (src/demo/, loaded on demand) trains with eager, nn and the tracer, on
  // WebGPU where chosen (backend-webgpu, imported dynamically by src/demo/backend.ts only).
  cli: ['core', 'backend-cpu', 'backend-webgpu', 'serializer', 'runtime', 'eager', 'nn', 'tracer'],
  // The `kiln` umbrella: user-facing, like user code, so it may re-export the tracer; nothing
  // depends on it (it is not in any other package's list).
  kiln: ['core', 'backend-cpu', 'serializer', 'runtime', 'eager', 'nn', 'tracer'],
};

/** package.json fields whose `@kiln/*` entries count as dependencies. */
export const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

export interface DeclaredDependency {
  /** Full name, e.g. `@kiln/core`. */
  readonly name: string;
  /** The package.json field it is listed in. */
  readonly field: string;
}

export interface SourceImport {
  /** Path of the importing file, as it should appear in messages. */
  readonly file: string;
  /** 1-based line of the import. */
  readonly line: number;
  /** The module specifier as written, e.g. `@kiln/core` or `@kiln/core/sub`. */
  readonly specifier: string;
}

export interface PackageFacts {
  /** Short name: the directory under packages/, e.g. `backend-cpu`. */
  readonly name: string;
  readonly declared: readonly DeclaredDependency[];
  readonly imports: readonly SourceImport[];
}

export type ViolationKind = 'unknown-package' | 'declared-against-direction' | 'import-against-direction' | 'import-undeclared' | 'self-import';

export interface Violation {
  readonly kind: ViolationKind;
  readonly package: string;
  readonly message: string;
}

const SCOPE = '@kiln/';

/** `@kiln/core/sub/path` → `core`; anything outside the scope → undefined. */
export function kilnPackageOf(specifier: string): string | undefined {
  if (!specifier.startsWith(SCOPE)) return undefined;
  const name = specifier.slice(SCOPE.length).split('/')[0];
  return name === '' ? undefined : name;
}

function allowedText(allowed: readonly string[]): string {
  return allowed.length === 0 ? 'on no @kiln package' : `only on ${allowed.map((a) => SCOPE + a).join(', ')}`;
}

/**
 * Every dependency or import that goes against `allowed`, and every import of a `@kiln`
 * package the importer's package.json does not declare. Packages missing from `allowed` are
 * violations too, so a new package must be placed in the architecture before it can land.
 */
export function checkDependencyDirection(
  packages: readonly PackageFacts[],
  allowed: Readonly<Record<string, readonly string[]>> = ALLOWED_KILN_DEPENDENCIES,
): Violation[] {
  const violations: Violation[] = [];
  for (const pkg of packages) {
    const may = allowed[pkg.name];
    if (may === undefined) {
      violations.push({
        kind: 'unknown-package',
        package: pkg.name,
        message: `${SCOPE}${pkg.name} is not in the dependency-direction table; add it to ALLOWED_KILN_DEPENDENCIES (scripts/lib/dependency-direction.ts) and to ARCHITECTURE.md`,
      });
      continue;
    }
    const declared = new Set<string>();
    for (const dep of pkg.declared) {
      const target = kilnPackageOf(dep.name);
      if (target === undefined) continue;
      declared.add(target);
      if (target === pkg.name) {
        violations.push({ kind: 'self-import', package: pkg.name, message: `${SCOPE}${pkg.name} lists itself in package.json ${dep.field}` });
      } else if (!may.includes(target)) {
        violations.push({
          kind: 'declared-against-direction',
          package: pkg.name,
          message: `${SCOPE}${pkg.name} lists ${dep.name} in package.json ${dep.field}, but it may depend ${allowedText(may)}`,
        });
      }
    }
    for (const imp of pkg.imports) {
      const target = kilnPackageOf(imp.specifier);
      if (target === undefined) continue;
      const where = `${imp.file}:${imp.line}`;
      if (target === pkg.name) {
        violations.push({
          kind: 'self-import',
          package: pkg.name,
          message: `${where} imports its own package '${imp.specifier}'; use a relative import`,
        });
      } else if (!may.includes(target)) {
        violations.push({
          kind: 'import-against-direction',
          package: pkg.name,
          message: `${where} imports '${imp.specifier}', but ${SCOPE}${pkg.name} may depend ${allowedText(may)}`,
        });
      } else if (!declared.has(target)) {
        violations.push({
          kind: 'import-undeclared',
          package: pkg.name,
          message: `${where} imports '${imp.specifier}', which ${SCOPE}${pkg.name}'s package.json does not declare`,
        });
      }
    }
  }
  return violations;
}

/**
 * Module specifiers of every import in a TypeScript source: static imports and exports
 * (`import type` and `export … from` included), `import x = require()`, dynamic `import()`,
 * `require()` and `typeof import()` types. Parsed, not pattern-matched, so comments and
 * strings that merely contain import-like text do not count.
 */
export function importsOf(sourceText: string, fileName = 'source.ts'): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(fileName, sourceText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node | undefined): void => {
    if (node !== undefined && ts.isStringLiteralLike(node)) {
      found.push({ specifier: node.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isImport || isRequire) add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(c|m)?tsx?$/.test(entry)) files.push(path);
  }
  return files.sort();
}

/** Reads packages/<dir>/package.json and the TypeScript under packages/<dir>/src of the repository at `root`. */
export function collectPackageFacts(root: string): PackageFacts[] {
  const packagesDir = join(root, 'packages');
  const facts: PackageFacts[] = [];
  for (const dir of readdirSync(packagesDir).sort()) {
    const manifestPath = join(packagesDir, dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    const name = kilnPackageOf(String(manifest['name'])) ?? dir;
    const declared: DeclaredDependency[] = [];
    for (const field of DEPENDENCY_FIELDS) {
      const deps = manifest[field];
      if (deps !== null && typeof deps === 'object') {
        for (const dep of Object.keys(deps)) declared.push({ name: dep, field });
      }
    }
    const imports: SourceImport[] = [];
    for (const file of sourceFiles(join(packagesDir, dir, 'src'))) {
      const rel = relative(root, file);
      for (const { specifier, line } of importsOf(readFileSync(file, 'utf8'), file)) imports.push({ file: rel, line, specifier });
    }
    facts.push({ name, declared, imports });
  }
  return facts;
}
