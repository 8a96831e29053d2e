/**
 * Package hygiene for consumers (issue 8, item 5): every package under packages/ is packed with
 * `pnpm pack` (the tarball a registry would get: `files`, `workspace:*` replaced by versions)
 * and installed alone in a scratch project that holds only the package and its declared
 * dependencies, the way npm lays them out: `@kiln/*` dependencies as their own tarballs,
 * extracted; external ones (flatbuffers, webgpu…) linked to the copies this workspace installed,
 * since the test must run offline. There, from a plain ESM script under plain node (no
 * `kiln-source` condition), every `exports` entry is imported and must resolve to a built file
 * inside the installed package with a `.d.ts` beside it; one TypeScript consumer then
 * type-checks an import of every entry of every package (declarations included). The installed
 * CLI's `kiln --version` and `kiln demo` run from its tarball, outside any checkout.
 *
 * Needs the build (`pnpm run build`, which scripts/test.sh's setup runs); the test runs the
 * incremental `tsc -b` itself, a few seconds when it is up to date (KILN_PACK_USE_DIST=1 packs
 * the dist/ folders as they are, e.g. while someone else's unfinished package breaks the build).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIRS = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json'))).sort();

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, Record<string, string>>;
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
  files?: string[];
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const work = mkdtempSync(join(tmpdir(), 'kiln-pack-'));
/** Tarball path by package name. */
const tarballs = new Map<string, string>();
/** Packed package.json by package name. */
const packed = new Map<string, Manifest>();
/** Workspace directory by package name, to find its installed external dependencies. */
const dirOf = new Map<string, string>();

/** Copies a package into `nodeModules` as npm would: the tarball extracted, or a link to the workspace's external copy. */
function install(nodeModules: string, name: string, from: string): void {
  const target = join(nodeModules, name);
  mkdirSync(dirname(target), { recursive: true });
  if (existsSync(target)) return;
  const tarball = tarballs.get(name);
  if (tarball) {
    mkdirSync(target);
    execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    for (const dep of Object.keys(packed.get(name)!.dependencies ?? {})) install(nodeModules, dep, dirOf.get(name)!);
  } else {
    // An external dependency: the copy pnpm installed for the package that declares it.
    symlinkSync(realpathSync(join(from, 'node_modules', name)), target, 'dir');
  }
}

/** A scratch project holding `name` and its declared dependencies, nothing else; returns its directory. */
function scratchProject(name: string): string {
  const dir = join(work, `use-${name.replace(/[@/]/g, '_')}`);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: { [name]: packed.get(name)!.version } }));
  install(join(dir, 'node_modules'), name, dirOf.get(name)!);
  return dir;
}

beforeAll(() => {
  if (!process.env['KILN_PACK_USE_DIST']) {
    const build = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-b', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 280_000 });
    if (build.status !== 0) throw new Error(`the build (tsc -b tsconfig.build.json) failed; the packages cannot be packed:\n${build.stdout}${build.stderr}`);
  }
  for (const d of DIRS) {
    const dir = join(ROOT, 'packages', d);
    const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', work], { cwd: dir, encoding: 'utf8' });
    const { name, filename } = JSON.parse(out.slice(out.indexOf('{'))) as { name: string; filename: string };
    tarballs.set(name, filename);
    dirOf.set(name, dir);
  }
  for (const [name, tarball] of tarballs) packed.set(name, JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Manifest);
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }), 60_000);

describe('each package, packed and installed alone', () => {
  it('packs every package under packages/, with a README and no workspace: ranges left', () => {
    expect([...packed.keys()].sort()).toEqual(DIRS.map((d) => readJson<Manifest>(join(ROOT, 'packages', d, 'package.json')).name).sort());
    expect(packed.has('kiln')).toBe(true);
    for (const [name, manifest] of packed) {
      const listing = execFileSync('tar', ['-tzf', tarballs.get(name)!], { encoding: 'utf8' }).split('\n');
      expect(listing, name).toContain('package/README.md');
      expect(listing.filter((f) => /\.tsbuildinfo$|\.test\.ts$/.test(f)), name).toEqual([]);
      expect(JSON.stringify(manifest.dependencies ?? {}), name).not.toContain('workspace:');
      expect(Object.keys(manifest.exports ?? {}), name).toContain('.');
    }
  });

  for (const d of DIRS) {
    it(`${d}: every exports entry imports under plain node and has its types`, () => {
      const manifest = readJson<Manifest>(join(ROOT, 'packages', d, 'package.json'));
      const dir = scratchProject(manifest.name);
      const installed = join(dir, 'node_modules', manifest.name);
      const entries = Object.keys(manifest.exports!).map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`));
      // Each entry's `types` and `default` files exist in the installed package.
      for (const [key, conditions] of Object.entries(manifest.exports!)) {
        expect(conditions['types'], `${manifest.name} ${key}`).toMatch(/^\.\/dist\/.*\.d\.ts$/);
        expect(existsSync(join(installed, conditions['types'])), `${manifest.name} ${key} types`).toBe(true);
        expect(existsSync(join(installed, conditions['default'])), `${manifest.name} ${key} default`).toBe(true);
      }
      const script = `
        const out = [];
        for (const entry of ${JSON.stringify(entries)}) {
          const url = import.meta.resolve(entry);
          const module = await import(entry);
          out.push({ entry, url, names: Object.keys(module).length });
        }
        console.log(JSON.stringify(out));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const results = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { entry: string; url: string; names: number }[];
      for (const { entry, url, names } of results) {
        expect(fileURLToPath(url).startsWith(realpathSync(installed)) || fileURLToPath(url).startsWith(installed), entry).toBe(true);
        expect(url, entry).toMatch(/\/dist\/.+\.js$/);
        expect(names, entry).toBeGreaterThan(0);
      }
    });
  }

  it('type-checks a TypeScript consumer importing every entry of every package', () => {
    const dir = join(work, 'types');
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
    const lines: string[] = [];
    let k = 0;
    for (const [name, manifest] of packed) {
      install(join(dir, 'node_modules'), name, dirOf.get(name)!);
      for (const key of Object.keys(manifest.exports!)) {
        const entry = key === '.' ? name : `${name}/${key.slice(2)}`;
        lines.push(`import * as m${k} from '${entry}';`, `export const n${k} = Object.keys(m${k++}).length;`);
      }
    }
    lines.push(`import { tensor, nn, type Tensor } from 'kiln';`, `export const t: Tensor = nn.functional === undefined ? tensor([1]) : tensor([2]);`);
    symlinkSync(realpathSync(join(ROOT, 'node_modules/@types/node')), join(dir, 'node_modules/@types/node'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(join(dir, 'consumer.ts'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', lib: ['ES2023', 'ESNext.Disposable', 'DOM'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['consumer.ts'],
    }));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the installed CLI: kiln --version, and kiln demo from its tarball outside any checkout', () => {
    const dir = scratchProject('@kiln/cli');
    const bin = join(dir, 'node_modules/@kiln/cli', packed.get('@kiln/cli')!.bin!['kiln']);
    const version = spawnSync(process.execPath, [bin, '--version'], { cwd: dir, encoding: 'utf8' });
    expect(version.stdout).toBe(`kiln ${packed.get('@kiln/cli')!.version}\n`);
    const demo = spawnSync(process.execPath, [bin, 'demo', '--out', 'artifacts', '--eager-epochs', '1', '--compiled-epochs', '1'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/runtime-only process \(kiln run: .*\): 360\/360 predictions match/);
    expect(readJson<{ deployed: unknown }>(join(dir, 'artifacts/summary.json')).deployed).toEqual({ rows: 360, matching: 360 });
    const bench = spawnSync(process.execPath, [bin, 'bench'], { cwd: dir, encoding: 'utf8' });
    expect(bench.status).toBe(2);
    expect(bench.stderr).toMatch(/bench: no Kiln checkout holds .*; the benchmarks are not part of the installed package/);
  });
});
