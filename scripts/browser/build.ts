/**
 * Bundles the browser page's program (docs/examples/browser/main.ts) with esbuild into
 * docs/examples/browser/dist/main.js (a build output, gitignored), from the packages' TypeScript
 * sources (the `kiln-source` condition: no package build needed). Run with
 * `pnpm exec tsx scripts/browser/build.ts`; scripts/test/browser-page.test.ts calls `buildPage`.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The page's folder: index.html, main.ts, and dist/ once built. */
export const PAGE_DIR = `${ROOT}docs/examples/browser/`;

/**
 * Writes dist/main.js (ES module, ES2022, minified unless `minify: false`, with a source map)
 * and returns its size and the source files it holds (relative to the repository root).
 *
 * @example
 * ```ts
 * const { bytes, inputs } = await buildPage();
 * ```
 */
export async function buildPage(options: { readonly minify?: boolean } = {}): Promise<{ bytes: number; inputs: string[] }> {
  const result = await build({
    entryPoints: [`${PAGE_DIR}main.ts`],
    outfile: `${PAGE_DIR}dist/main.js`,
    absWorkingDir: ROOT,
    bundle: true,
    minify: options.minify ?? true,
    keepNames: true, // error classes keep their names (WebGPUUnavailableError, FormatError…) on the page
    sourcemap: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['kiln-source'],
    metafile: true,
    logLevel: 'silent',
  });
  const out = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith('main.js'))!;
  return { bytes: out[1].bytes, inputs: Object.keys(result.metafile.inputs).sort() };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { bytes, inputs } = await buildPage();
  console.log(`wrote docs/examples/browser/dist/main.js: ${bytes} bytes, ${inputs.length} source files`);
}
