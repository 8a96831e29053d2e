/**
 * Bundles the deployer's import set — `@kiln/runtime`, `@kiln/serializer`, `@kiln/backend-cpu`
 * — with esbuild, minified, and reports its size (raw and gzip) and the source files it pulled
 * in. Two entries:
 * - `node`: docs/examples/deploy-run.ts as is (Node built-ins stay external);
 * - `browser`: a page's program (fetch a .kiln file, loadModel, run), for the browser.
 *
 * Run with `pnpm exec tsx scripts/bundle/deployer.ts` (prints the figures quoted in
 * docs/guide/deploy.md); scripts/test/deploy-imports.test.ts uses `bundleDeployer`.
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The browser deployer: nothing but loading bytes and running them. */
export const BROWSER_ENTRY = `
import { createCpuBackend } from '@kiln/backend-cpu';
import { loadModel } from '@kiln/runtime';
export async function predict(url, pixels, shape) {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const model = loadModel(bytes, { backend: createCpuBackend() });
  const [y] = model.run({ dtype: 'float32', shape, data: pixels });
  model.dispose();
  return y;
}
`;

export interface BundleFigures {
  readonly platform: 'node' | 'browser';
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Source files in the bundle, relative to the repository root (node_modules paths kept as found). */
  readonly inputs: readonly string[];
}

/**
 * Bundles `entry` (a file, or `{ contents }` source resolved from the repository root) minified
 * with the packages' TypeScript sources (the `kiln-source` condition, so no build is needed).
 *
 * @example
 * ```ts
 * const { bytes, gzipBytes, inputs } = await bundleDeployer('browser', { contents: BROWSER_ENTRY });
 * ```
 */
export async function bundleDeployer(platform: 'node' | 'browser', entry: string | { readonly contents: string }): Promise<BundleFigures> {
  const result = await build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: 'ts', sourcefile: 'deployer-entry.ts' } }),
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    format: 'esm',
    platform,
    target: 'es2022',
    conditions: ['kiln-source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { platform, bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength, inputs: Object.keys(result.metafile.inputs).sort() };
}

/** Which packages a bundle's inputs come from: `@kiln/<name>` for packages/<name>, else the npm package. */
export function packagesOf(inputs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const path of inputs) {
    const kiln = /(?:^|\/)packages\/([^/]+)\/src\//.exec(path);
    const npm = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(path);
    if (npm) names.add(npm[1]);
    else if (kiln) names.add(`@kiln/${kiln[1]}`);
  }
  return [...names].sort();
}

async function main(): Promise<void> {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const [platform, entry] of [['browser', { contents: BROWSER_ENTRY }], ['node', 'docs/examples/deploy-run.ts']] as const) {
    const f = await bundleDeployer(platform, entry);
    console.log(`${platform.padEnd(7)} ${typeof entry === 'string' ? entry : 'fetch + loadModel + run'}: ${f.bytes} bytes minified (${kb(f.bytes)}), ${f.gzipBytes} gzip (${kb(f.gzipBytes)}); ${f.inputs.length} files from ${packagesOf(f.inputs).join(', ')}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
