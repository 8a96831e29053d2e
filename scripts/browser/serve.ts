/**
 * Builds the browser page, writes its model and serves docs/examples/browser/ with COOP/COEP
 * (so the CPU fallback gets WebAssembly threads): `pnpm exec tsx --conditions=kiln-source
 * scripts/browser/serve.ts [port]`, then open the printed address in a browser with WebGPU.
 */
import { buildPage, PAGE_DIR } from './build.js';
import { pageModel } from './model.js';
import { serveStatic } from './server.js';

const { bytes } = await buildPage();
const { bytes: model } = pageModel();
const server = await serveStatic(PAGE_DIR, { files: new Map([['model.kiln', model]]), port: Number(process.argv[2] ?? 8080) });
console.log(`serving docs/examples/browser/ (${bytes} bytes of script, a ${model.byteLength}-byte model) at ${server.url}`);
console.log(`  ${server.url}?backend=cpu forces the CPU; Ctrl-C stops`);
